"""Events that happened, the notifications they caused, and every attempt to deliver them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalogue.events import EventType
from configurations.models import Configuration, Product
from core.queues import DELIVERIES
from history.choices import OPEN_STATUSES, AttemptTrigger, BulkResendStatus, ErrorKind, NotificationStatus


class Event(models.Model):
    """Something that happened to a sale; ``facts`` hold what its payloads are built from."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    occurred_at = models.DateTimeField()
    transaction = models.CharField(max_length=40, blank=True, db_index=True)
    buyer_email = models.CharField(max_length=254, blank=True, db_index=True)
    facts = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["owner", "-occurred_at"], name="event_owner_occurred")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.uuid}"


class Notification(models.Model):
    """One event for one configuration: the frozen payload and where its delivery stands."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="notifications")
    configuration = models.ForeignKey(
        Configuration, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event_type = models.CharField(max_length=40, choices=EventType.choices)  # the event's, copied for filtering
    is_test = models.BooleanField(default=False, help_text="A test post: one attempt, never disables anything.")
    payload = models.TextField(help_text="The exact body sent, UTF-8; every attempt sends these bytes.")
    content_type = models.CharField(max_length=80, default="application/json")
    # Where a notification with no configuration was sent: a receiver check of a bare URL. Such a notification
    # is saved final (its POSTs are already made), so the engine never claims or resends it.
    target_url = models.TextField(blank=True, default="", help_text="Set only for a receiver check of a bare URL.")
    status = models.CharField(max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    status_reason = models.TextField(blank=True)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    automatic_attempt_count = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.IntegerField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The Celery queue whose workers send it (history/lanes.py lane_for): deliveries, retries or a tenant's.
    lane = models.CharField(max_length=64, default=DELIVERIES)
    # A worker's claim: while locked_until is in the future nobody else sends it.
    locked_until = models.DateTimeField(null=True, blank=True)
    lock_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set by a claim that found an earlier claim never finished (its worker died mid-attempt): when that one
    # started. The new claimer records the lost attempt as interrupted before anything else.
    interrupted_claim_at = models.DateTimeField(null=True, blank=True)
    # Set when its owner asks for a manual resend; cleared when that attempt is saved.
    resend_requested_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # History pages: newest first for an owner, optionally by status, event type or configuration.
            models.Index(fields=["owner", "-created_at", "-id"], name="notification_owner_created"),
            models.Index(fields=["owner", "status", "-created_at", "-id"], name="notification_owner_status"),
            models.Index(fields=["owner", "event_type", "-created_at", "-id"], name="notification_owner_event"),
            models.Index(fields=["configuration", "-created_at", "-id"], name="notification_config_created"),
            models.Index(fields=["configuration", "status"], name="notification_config_status"),
            models.Index(fields=["created_at"], name="notification_created"),
            # The claims: a lane's due open notifications, and manual resends waiting for a worker.
            models.Index(
                fields=["lane", "next_attempt_at"],
                name="notification_lane_due",
                condition=Q(status__in=OPEN_STATUSES, lock_token__isnull=True),  # a claimed row leaves it
            ),
            models.Index(
                fields=["resend_requested_at"],
                name="notification_resend_due",
                condition=Q(resend_requested_at__isnull=False),
            ),
            # Claims whose lease ran out with no attempt saved: the sweep records them as interrupted.
            models.Index(fields=["locked_until"], name="notification_leased", condition=Q(lock_token__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status not in OPEN_STATUSES


class Attempt(models.Model):
    """One HTTP POST of a notification: what was sent, what came back, how long it took."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    trigger = models.CharField(max_length=10, choices=AttemptTrigger.choices, default=AttemptTrigger.AUTOMATIC)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    request_url = models.TextField()
    request_headers = models.JSONField(default=dict, help_text="As sent, with the hottok masked.")
    request_body_sha256 = models.CharField(max_length=64, help_text="Of the bytes sent: the notification's payload.")
    response_status = models.IntegerField(help_text="The HTTP status, or -1 when no HTTP answer came.")
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True)
    response_body_truncated = models.BooleanField(default=False)
    response_escaped = models.BooleanField(
        default=False,
        help_text="The answer held characters the database cannot store (NUL); they are kept escaped as \\x00.",
    )
    error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True, default=ErrorKind.NONE)
    error_message = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "number"], name="attempt_number_unique"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of notification {self.notification_id}: {self.response_status}"

    @property
    def succeeded(self) -> bool:
        return 200 <= self.response_status < 300

    @property
    def request_body(self) -> str:
        """The bytes sent: a notification's payload never changes, so it is stored once."""
        return self.notification.payload


class BulkResend(models.Model):
    """A background job: resend every failed notification of a configuration within a time window."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bulk_resends")
    configuration = models.ForeignKey(Configuration, on_delete=models.CASCADE, related_name="bulk_resends")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    statuses = models.JSONField(default=list, help_text="Which notification statuses to resend, e.g. ['failed'].")
    status = models.CharField(max_length=10, choices=BulkResendStatus.choices, default=BulkResendStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    requested = models.PositiveIntegerField(default=0)
    last_notification_id = models.BigIntegerField(default=0)  # keyset cursor: the job resumes after a crash
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"bulk resend {self.pk} of configuration {self.configuration_id} ({self.status})"

    @property
    def progress(self) -> float:
        """Share of the notifications found whose resend has been requested, 0..1."""
        if self.status == BulkResendStatus.DONE:
            return 1.0
        return self.requested / self.total if self.total else 0.0
