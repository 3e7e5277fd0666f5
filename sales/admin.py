from django.contrib import admin

from sales.models import Purchase, Subscription


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    list_display = ["transaction", "owner", "product", "status", "payment_type", "recurrence_number", "last_event_at"]
    list_filter = ["status", "payment_type"]
    search_fields = ["transaction"]
    raw_id_fields = ["subscription", "affiliate"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["subscriber_code", "owner", "product", "status", "plan_key", "date_next_charge"]
    list_filter = ["status"]
    search_fields = ["subscriber_code"]
