"""The API's shapes of inboxes and the requests they caught; the rules stay in ``inbox.services``."""

from __future__ import annotations

from rest_framework import serializers

from inbox.models import DEFAULT_BODY, Inbox
from inbox.selectors import inbox_url
from inbox.services import MAX_FAIL_FIRST, MAX_RESPONSE_BODY

STATUS_HELP = "An HTTP status, 200 to 599 (e.g. 410 rehearses auto-disable, 500 the retries)."


class InboxSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Give this URL to a configuration; it is the inbox's only key.")
    request_count = serializers.IntegerField(help_text="Requests kept (the newest INBOX_MAX_REQUESTS).")
    received_count = serializers.IntegerField(
        help_text="Requests taken since it was created or reset (fail-first-N counts these)."
    )

    class Meta:
        model = Inbox
        fields = [
            "id",
            "name",
            "url",
            "status_code",
            "response_body",
            "response_content_type",
            "delay_ms",
            "fail_first",
            "fail_status",
            "received_count",
            "request_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_url(self, inbox: Inbox) -> str:
        return inbox_url(inbox)


class InboxWriteSerializer(serializers.Serializer):
    """Create (POST) takes a name and any of the rest; a change (PATCH) any of them, and what is left out stays."""

    name = serializers.CharField(max_length=100)
    status_code = serializers.IntegerField(required=False, min_value=200, max_value=599, help_text=STATUS_HELP)
    response_body = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=MAX_RESPONSE_BODY,
        help_text=f"What it answers (at most 64 KiB); default `{DEFAULT_BODY}`.",
    )
    response_content_type = serializers.CharField(required=False, max_length=100, help_text="Of the body it answers.")
    delay_ms = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2**31 - 1,
        help_text="How long it hangs before answering, in milliseconds, up to INBOX_MAX_DELAY (default 60 s).",
    )
    fail_first = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_FAIL_FIRST,
        help_text="The first N requests get `fail_status`; changing it starts the count again.",
    )
    fail_status = serializers.IntegerField(
        required=False, min_value=200, max_value=599, help_text="Status of those first N answers (default 500)."
    )


class InboxListSerializer(serializers.Serializer):
    items = InboxSerializer(many=True)


class InboxResetSerializer(serializers.Serializer):
    forgotten = serializers.IntegerField(help_text="How many caught requests were deleted.")
    inbox = InboxSerializer()


class InboxRequestQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2**63 - 1,
        help_text="A request's `id`: only the requests that came after it, oldest first; poll with the last "
        "answer's `next_after` (0 for all). Left out: the newest ones, newest first.",
    )
    max_results = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)
    reveal = serializers.BooleanField(
        required=False, default=False, help_text="Show the hottok in headers and body instead of masking it."
    )


class InboxRequestSerializer(serializers.Serializer):
    """A caught request as ``inbox.selectors.inbox_request_view`` shows it."""

    id = serializers.IntegerField(help_text="Only grows: poll with `after` = the newest id you have.")
    number = serializers.IntegerField(
        help_text="1 for the first request since the inbox's count last started (created, reset, fail-first changed)."
    )
    received_at = serializers.DateTimeField()
    method = serializers.CharField()
    path = serializers.CharField(help_text="The path after the inbox's URL, with the query string.")
    headers = serializers.DictField(
        child=serializers.CharField(allow_blank=True), help_text="As received; the hottok masked unless revealed."
    )
    content_type = serializers.CharField(allow_blank=True)
    body = serializers.CharField(
        source="body_text", allow_blank=True, help_text="As UTF-8 text; the hottok masked unless revealed."
    )
    body_size = serializers.IntegerField(help_text="Bytes received.")
    body_truncated = serializers.BooleanField(help_text="Only the first INBOX_MAX_BODY_BYTES were kept.")
    remote_addr = serializers.CharField(allow_blank=True)
    response_status = serializers.IntegerField(help_text="What the inbox answered.")
    response_delay_ms = serializers.IntegerField()
    event_type = serializers.CharField(
        allow_blank=True,
        help_text="For a Hotmart notification, its event (`1.0 <status>` for the legacy postback); else empty.",
    )
    subject = serializers.CharField(
        allow_blank=True, help_text="For a Hotmart notification, its transaction or `subscriber <code>`; else empty."
    )


class InboxRequestListSerializer(serializers.Serializer):
    items = InboxRequestSerializer(many=True)
    next_after = serializers.IntegerField(
        help_text="The newest request id seen (or the `after` given): pass it as `after` to get only what comes next."
    )
