from django.contrib import admin

from receiver_checks.models import CheckResult, ReceiverCheck


class CheckResultInline(admin.TabularInline):
    model = CheckResult
    fields = ["position", "key", "grade", "summary"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ReceiverCheck)
class ReceiverCheckAdmin(admin.ModelAdmin):
    list_display = ["pk", "owner", "url", "status", "grade", "created_at"]
    list_filter = ["status", "grade"]
    inlines = [CheckResultInline]
