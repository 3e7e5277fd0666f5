from django.contrib import admin

from inbox.models import Inbox, InboxRequest


@admin.register(Inbox)
class InboxAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "status_code", "delay_ms", "fail_first", "received_count"]
    exclude = ["token"]  # the URL's secret; `manage.py inbox list --owner U` shows it to its owner


@admin.register(InboxRequest)
class InboxRequestAdmin(admin.ModelAdmin):
    list_display = ["inbox", "number", "method", "received_at", "response_status"]
    exclude = ["headers", "body"]  # may carry a hottok; `manage.py inbox show` masks it
