"""The API's shapes of receiver checks and their reports; the rules stay in ``receiver_checks.services``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalogue.events import PayloadVersion
from configurations.serializers import id_field
from configurations.validators import MAX_URL_LENGTH
from receiver_checks.choices import Grade, RunStatus
from receiver_checks.models import CheckResult, ReceiverCheck
from receiver_checks.selectors import Progress, receiver_check_progress
from receiver_checks.services import MAX_KEY_LENGTH

IDEMPOTENCY_HELP = (
    f"Optional, up to {MAX_KEY_LENGTH} characters: asking again with the same key answers the same check (200) "
    "instead of starting another, e.g. when a request is retried after a network error."
)


class ReceiverCheckCreateSerializer(serializers.Serializer):
    """Either `configuration`, or `url` (with `payload_version`)."""

    configuration = id_field(
        required=False, allow_null=True, default=None, help_text="One of your configurations: its URL, events, version."
    )
    url = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        max_length=MAX_URL_LENGTH,
        help_text="A bare URL of yours instead: it gets every event (every purchase event in 1.0) with your hottok.",
    )
    payload_version = serializers.ChoiceField(
        choices=PayloadVersion.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="For a bare URL: `2.0.0` (JSON, the default) or `1.0` (the legacy form).",
    )


class ReceiverCheckQuerySerializer(serializers.Serializer):
    configuration = id_field(required=False, help_text="Only the checks of this configuration.")
    max_results = serializers.IntegerField(required=False, default=20, min_value=1, max_value=100)


class ConfigurationNameSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AnswerSerializer(serializers.Serializer):
    notification = serializers.IntegerField(help_text="Its notification: `GET /api/v1/notifications/{id}`.")
    event_type = serializers.CharField()
    note = serializers.CharField(help_text="Which POST of the check: `checked`, `before PURCHASE_REFUNDED`, ...")
    attempt = serializers.IntegerField()
    status_code = serializers.IntegerField(source="status", help_text="The HTTP status; -1 when no answer came.")
    duration_ms = serializers.IntegerField()
    error_kind = serializers.CharField(allow_blank=True)
    error = serializers.CharField(allow_blank=True)
    location = serializers.CharField(allow_blank=True, help_text="A redirect's Location.")


class CheckResultSerializer(serializers.ModelSerializer):
    grade = serializers.ChoiceField(choices=Grade.choices, help_text="`pending` until its POSTs are answered.")
    notifications = serializers.ListField(source="notification_ids", child=serializers.IntegerField())
    answers = AnswerSerializer(many=True)

    class Meta:
        model = CheckResult
        fields = ["key", "title", "grade", "summary", "fix", "sent", "why", "notifications", "answers"]
        read_only_fields = fields


class CountsSerializer(serializers.Serializer):
    passed = serializers.IntegerField(source=Grade.PASS)
    warnings = serializers.IntegerField(source=Grade.WARN)
    failed = serializers.IntegerField(source=Grade.FAIL)
    skipped = serializers.IntegerField(source=Grade.SKIP)
    pending = serializers.IntegerField()


class LimitsSerializer(serializers.Serializer):
    connect_timeout = serializers.FloatField()
    read_timeout = serializers.FloatField()
    total_timeout = serializers.FloatField()


class ReceiverCheckSummarySerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField(help_text="queued, running, done, or expired (it did not finish).")
    status_reason = serializers.SerializerMethodField()
    grade = serializers.SerializerMethodField(help_text="Once done: fail if any check failed, else warn, else pass.")
    configuration = serializers.SerializerMethodField()
    hottok = serializers.CharField(source="hottok_shown", help_text="The hottok sent, masked.")
    limits = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField(help_text="How many checks ended each way.")

    class Meta:
        model = ReceiverCheck
        fields = [
            "id",
            "status",
            "status_reason",
            "grade",
            "configuration",
            "url",
            "payload_version",
            "events",
            "hottok",
            "limits",
            "counts",
            "created_at",
            "started_at",
            "finished_at",
            "deadline_at",
        ]
        read_only_fields = fields

    def _progress(self, run: ReceiverCheck) -> Progress:
        cache = self.context.setdefault("progress", {})
        if run.pk not in cache:
            cache[run.pk] = receiver_check_progress(run)
        return cache[run.pk]

    @extend_schema_field(serializers.ChoiceField(choices=RunStatus.choices))
    def get_status(self, run: ReceiverCheck) -> str:
        return self._progress(run).status

    def get_status_reason(self, run: ReceiverCheck) -> str:
        return self._progress(run).reason

    @extend_schema_field(serializers.ChoiceField(choices=Grade.choices, allow_null=True))
    def get_grade(self, run: ReceiverCheck) -> str | None:
        return run.grade or None

    @extend_schema_field(ConfigurationNameSerializer(allow_null=True))
    def get_configuration(self, run: ReceiverCheck) -> dict | None:
        if run.configuration is None:
            return None
        return {"id": run.configuration.pk, "name": run.configuration.name}

    @extend_schema_field(LimitsSerializer)
    def get_limits(self, run: ReceiverCheck) -> dict:
        return LimitsSerializer(run).data

    @extend_schema_field(CountsSerializer)
    def get_counts(self, run: ReceiverCheck) -> dict:
        return CountsSerializer(self._progress(run).counts).data


class ReceiverCheckSerializer(ReceiverCheckSummarySerializer):
    """A check with its report: every check in order, with what was sent, what came back and how to fix it."""

    checks = CheckResultSerializer(source="results", many=True)

    class Meta(ReceiverCheckSummarySerializer.Meta):
        fields = [*ReceiverCheckSummarySerializer.Meta.fields, "checks"]
        read_only_fields = fields


class ReceiverCheckListSerializer(serializers.Serializer):
    items = ReceiverCheckSummarySerializer(many=True)
