"""The API's shapes of events, notifications, attempts and bulk resend jobs."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalogue.events import EventType
from configurations.serializers import id_field
from core.documents import NOT_JSON, parse_json
from core.secrets import mask_body
from history.choices import AttemptTrigger, BulkResendStatus, ErrorKind, NotificationStatus
from history.models import Attempt, BulkResend, Event, Notification
from history.selectors import bulk_resend_sent_count

# --- Events -----------------------------------------------------------------------------------------------


class EventSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", help_text="The payloads' `id`: receivers deduplicate on it.")
    product = serializers.SerializerMethodField(help_text="Hotmart product id; null for a test post's test product.")

    class Meta:
        model = Event
        fields = ["id", "event_type", "product", "transaction", "buyer_email", "occurred_at"]
        read_only_fields = fields

    def get_product(self, event: Event) -> int | None:
        return (event.facts.get("product") or {}).get("id") or None


class EventCreateSerializer(serializers.Serializer):
    event_type = serializers.ChoiceField(choices=EventType.choices)
    product = id_field(
        required=False,
        allow_null=True,
        default=None,
        help_text="Hotmart product id; default: your first product (first subscription one for subscription events).",
    )
    buyer_email = serializers.EmailField(
        required=False, allow_null=True, default=None, max_length=254, help_text="Default: a made-up buyer."
    )


# --- Notifications and attempts ---------------------------------------------------------------------------


class ConfigurationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()


class NotificationSummarySerializer(serializers.ModelSerializer):
    event = serializers.UUIDField(source="event.uuid", help_text="The event's id, the payload's `id`.")
    configuration = ConfigurationRefSerializer(
        allow_null=True, help_text="Null once the configuration is removed, and for a receiver check of a bare URL."
    )
    target_url = serializers.CharField(
        help_text="Where a receiver check of a bare URL sent it (no configuration: it cannot be resent); else empty."
    )
    resend_requested = serializers.SerializerMethodField(help_text="A manual resend is waiting for a worker.")

    class Meta:
        model = Notification
        fields = [
            "id",
            "status",
            "status_reason",
            "event_type",
            "event",
            "is_test",
            "configuration",
            "target_url",
            "attempt_count",
            "last_status_code",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
            "resend_requested",
            "created_at",
        ]
        read_only_fields = fields

    def get_resend_requested(self, notification: Notification) -> bool:
        return notification.resend_requested_at is not None


class AttemptSerializer(serializers.ModelSerializer):
    url = serializers.CharField(source="request_url")
    status_code = serializers.IntegerField(
        source="response_status", help_text="The HTTP status; -1 when no HTTP answer came (see error_kind)."
    )
    error_kind = serializers.ChoiceField(choices=ErrorKind.choices, allow_blank=True)
    trigger = serializers.ChoiceField(choices=AttemptTrigger.choices)

    class Meta:
        model = Attempt
        fields = [
            "number",
            "trigger",
            "started_at",
            "duration_ms",
            "url",
            "request_headers",
            "request_body_sha256",
            "status_code",
            "response_headers",
            "response_body",
            "response_body_truncated",
            "response_escaped",
            "error_kind",
            "error_message",
        ]
        read_only_fields = fields


class NotificationDetailSerializer(NotificationSummarySerializer):
    """A notification with the exact payload sent (hottok masked unless revealed) and every attempt."""

    payload = serializers.SerializerMethodField()
    transaction = serializers.CharField(source="event.transaction")
    buyer_email = serializers.CharField(source="event.buyer_email")
    attempts = AttemptSerializer(many=True)

    class Meta(NotificationSummarySerializer.Meta):
        fields = [
            *NotificationSummarySerializer.Meta.fields,
            "content_type",
            "transaction",
            "buyer_email",
            "payload",
            "attempts",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.ANY)
    def get_payload(self, notification: Notification):
        text = notification.payload if self.context.get("reveal") else mask_body(notification.payload)
        if notification.content_type != "application/json":
            return text  # the legacy 1.0 form, as sent
        document = parse_json(text)
        return text if document is NOT_JSON else document


class PageQuerySerializer(serializers.Serializer):
    """A page of a list, Hotmart-style: how many, and where the previous page ended."""

    page_token = serializers.CharField(
        required=False, max_length=200, help_text="`page_info.next_page_token` of the previous page."
    )
    max_results = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class NotificationQuerySerializer(PageQuerySerializer):
    """The History page's filters, as query parameters."""

    status = serializers.ChoiceField(choices=NotificationStatus.choices, required=False)
    event_type = serializers.ChoiceField(choices=EventType.choices, required=False)
    configuration = id_field(required=False, help_text="A configuration id.")
    since = serializers.DateTimeField(required=False, help_text="Created at or after, ISO 8601.")
    until = serializers.DateTimeField(required=False, help_text="Created at or before, ISO 8601.")
    q = serializers.CharField(
        required=False, max_length=254, help_text="A transaction code or a buyer e-mail, matched exactly."
    )
    is_test = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Only test posts, or none."
    )


class PageInfoSerializer(serializers.Serializer):
    next_page_token = serializers.CharField(allow_null=True, help_text="Null on the last page.")
    results_per_page = serializers.IntegerField()


class NotificationPageSerializer(serializers.Serializer):
    items = NotificationSummarySerializer(many=True)
    page_info = PageInfoSerializer()


class EventRecordedSerializer(serializers.Serializer):
    event = EventSerializer()
    notifications = NotificationSummarySerializer(many=True, help_text="One per matching active configuration.")


class RevealSerializer(serializers.Serializer):
    reveal = serializers.BooleanField(
        required=False, default=False, help_text="Show the hottok inside the payload instead of masking it."
    )


# --- Bulk resends -----------------------------------------------------------------------------------------


class BulkResendSerializer(serializers.ModelSerializer):
    configuration = serializers.IntegerField(source="configuration_id")
    statuses = serializers.ListField(child=serializers.ChoiceField(choices=NotificationStatus.choices))
    status = serializers.ChoiceField(choices=BulkResendStatus.choices)
    sent = serializers.SerializerMethodField(help_text="How many of the requested resends have been attempted.")
    progress = serializers.FloatField(help_text="Share of the notifications found whose resend was requested, 0..1.")

    class Meta:
        model = BulkResend
        fields = [
            "id",
            "configuration",
            "window_start",
            "window_end",
            "statuses",
            "status",
            "total",
            "requested",
            "sent",
            "progress",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_sent(self, job: BulkResend) -> int:
        return bulk_resend_sent_count(job=job)


class BulkResendCreateSerializer(serializers.Serializer):
    configuration = id_field(help_text="The configuration whose notifications to resend.")
    window_start = serializers.DateTimeField(help_text="Notifications created at or after, ISO 8601.")
    window_end = serializers.DateTimeField(required=False, help_text="Created at or before; default: now.")
    statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=NotificationStatus.choices),
        required=False,
        default=[NotificationStatus.FAILED],
        min_length=1,
        max_length=len(NotificationStatus.choices),
    )


class BulkResendListSerializer(serializers.Serializer):
    items = BulkResendSerializer(many=True)
