"""Receiver checks: a suite of POSTs to a receiver, each graded against Hotmart's contract."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalogue.events import PayloadVersion
from configurations.models import Configuration
from receiver_checks.choices import IN_FLIGHT, Grade, RunStatus


class ReceiverCheck(models.Model):
    """One run of the check against a configuration's URL, or a bare URL of the producer's, with its limits.

    The URL, payload version and events are copied when it is asked for, so the report stays true after the
    configuration changes. ``deadline_at`` bounds it: a run no worker finished by then is expired.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="receiver_checks")
    configuration = models.ForeignKey(
        Configuration, null=True, blank=True, on_delete=models.SET_NULL, related_name="receiver_checks"
    )
    url = models.TextField()
    payload_version = models.CharField(max_length=5, choices=PayloadVersion.choices, default=PayloadVersion.V2)
    events = models.JSONField(default=list)
    # One check in flight per receiver: "configuration:<id>", or "url:<version>:<sha256 of the URL>".
    target_key = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    status_reason = models.TextField(blank=True)
    grade = models.CharField(max_length=10, choices=Grade.choices, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    hottok_shown = models.CharField(max_length=20, blank=True, help_text="The hottok sent, masked.")
    # The transport's limits when it was asked for: the worker uses these, so the deadline holds.
    connect_timeout = models.FloatField()
    read_timeout = models.FloatField()
    total_timeout = models.FloatField()
    max_response_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    start_by = models.DateTimeField(help_text="A worker that has not started it by then leaves it expired.")
    deadline_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at", "-id"], name="receiver_check_owner_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="receiver_check_idempotency_key_unique",
            ),
            models.UniqueConstraint(
                fields=["owner", "target_key"],
                condition=Q(status__in=IN_FLIGHT),
                name="receiver_check_one_in_flight_per_target",
            ),
        ]

    def __str__(self) -> str:
        return f"receiver check {self.pk} of {self.url} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.EXPIRED)


class CheckResult(models.Model):
    """One check of a run: what it sent, why it matters, what came back, its grade and how to fix it.

    ``answers`` lists each POST with its notification in History: ``{"notification", "event_type", "note",
    "attempt", "status", "duration_ms", "error_kind", "error", "location"}``.
    """

    run = models.ForeignKey(ReceiverCheck, on_delete=models.CASCADE, related_name="results")
    key = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    why = models.TextField()
    sent = models.TextField()
    grade = models.CharField(max_length=10, choices=Grade.choices, default=Grade.PENDING)
    summary = models.TextField(blank=True)
    fix = models.TextField(blank=True)
    notification_ids = models.JSONField(default=list)
    answers = models.JSONField(default=list)
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="check_result_key_unique_per_run")]

    def __str__(self) -> str:
        return f"{self.key} of receiver check {self.run_id}: {self.grade}"
