from django.contrib import admin

from configurations.models import Account, Affiliation, Configuration, Product


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["user", "producer_name", "affiliate_code", "affiliates_see_buyer_data", "hottok_changed_at"]
    exclude = ["hottok"]  # the secret is revealed by its owner only, through `manage.py hottok`


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "hotmart_id", "owner", "price", "currency", "is_subscription"]
    list_filter = ["is_subscription"]


@admin.register(Configuration)
class ConfigurationAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "url", "payload_version", "status", "disabled_at"]
    list_filter = ["status"]


@admin.register(Affiliation)
class AffiliationAdmin(admin.ModelAdmin):
    list_display = ["affiliate", "product", "commission_percent", "hotlink"]
