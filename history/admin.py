from django.contrib import admin

from core.secrets import mask_body
from history.models import Attempt, Event, Notification


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["event_type", "uuid", "owner", "transaction", "buyer_email", "occurred_at"]
    list_filter = ["event_type"]
    search_fields = ["transaction", "buyer_email"]


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    fields = ["number", "trigger", "started_at", "response_status", "error_kind", "duration_ms"]
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "configuration", "status", "attempt_count", "last_status_code", "next_attempt_at"]
    list_filter = ["status"]
    raw_id_fields = ["event", "configuration"]
    exclude = ["payload"]  # may carry the hottok: shown masked instead, and never edited (it is frozen)
    readonly_fields = ["payload_masked"]
    inlines = [AttemptInline]

    @admin.display(description="Payload (hottok masked)")
    def payload_masked(self, notification: Notification) -> str:
        return mask_body(notification.payload)
