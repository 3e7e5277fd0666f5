"""The only code that writes events, notifications and attempts.

A notification moves through its statuses here only: claimed by one worker at a time (a lease in the row),
an attempt recorded together with the status it leads to, cancelled when its configuration goes away.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from history.choices import OPEN_STATUSES, AttemptTrigger, BulkResendStatus, NotificationStatus
from history.models import Attempt, BulkResend, Event, Notification


def event_create(
    *,
    owner_id: int,
    event_type: str,
    product_id: int | None,
    occurred_at: datetime,
    facts: dict,
    transaction_code: str = "",
    buyer_email: str = "",
    event_uuid: uuid.UUID | None = None,
) -> Event:
    return Event.objects.create(
        uuid=event_uuid or uuid.uuid4(),
        owner_id=owner_id,
        event_type=event_type,
        product_id=product_id,
        occurred_at=occurred_at,
        facts=facts,
        transaction=transaction_code,
        buyer_email=buyer_email.strip().lower(),
    )


@dataclass(frozen=True)
class NewNotification:
    configuration_id: int
    payload: str
    content_type: str = "application/json"
    owner_id: int | None = None  # the configuration's owner when not the event's: an affiliate credited with the sale


def notifications_create(
    *, event: Event, items: Sequence[NewNotification], now: datetime, is_test: bool = False
) -> list[Notification]:
    """Save one pending notification per item, due now and marked as enqueued now (the caller enqueues)."""
    notifications = [
        Notification(
            event=event,
            owner_id=item.owner_id or event.owner_id,
            event_type=event.event_type,
            is_test=is_test,
            configuration_id=item.configuration_id,
            payload=item.payload,
            content_type=item.content_type,
            status=NotificationStatus.PENDING,
            next_attempt_at=now,
            enqueued_at=now,
        )
        for item in items
    ]
    created = Notification.objects.bulk_create(notifications)
    if any(n.pk is None for n in created):  # backends that do not return ids from bulk inserts
        created = list(Notification.objects.filter(event=event).order_by("id"))
    return created


def notification_claim(*, notification_id: int, now: datetime, lease_seconds: float) -> Notification | None:
    """Take the right to send the notification's next attempt, or None.

    There is one to send when it is open and due (an automatic attempt) or when its owner asked for a resend
    (a manual one). None when there is none, or when another worker holds a claim whose lease has not run
    out. The claim is one conditional UPDATE, so two workers holding the same message can never both win it.
    """
    token = uuid.uuid4()
    has_work = Q(status__in=OPEN_STATUSES, next_attempt_at__lte=now) | Q(resend_requested_at__isnull=False)
    won = (
        Notification.objects.filter(has_work, pk=notification_id)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + timedelta(seconds=lease_seconds), lock_token=token)
    )
    if not won:
        return None
    # One query for everything the attempt needs: the configuration, the event's id and the recipient's
    # hottok (its account); the event's facts are not needed to send the frozen payload.
    return (
        Notification.objects.select_related("configuration", "event", "owner__webhook_account")
        .defer("event__facts")
        .filter(pk=notification_id, lock_token=token)
        .first()
    )


@dataclass(frozen=True)
class AttemptData:
    number: int
    trigger: str
    started_at: datetime
    duration_ms: int
    request_url: str
    request_headers: dict
    request_body_sha256: str
    response_status: int
    response_headers: dict
    response_body: str
    response_body_truncated: bool
    error_kind: str
    error_message: str
    task_id: str = ""


@dataclass(frozen=True)
class Transition:
    """Where an attempt leaves its notification."""

    status: str
    next_attempt_at: datetime | None = None
    reason: str = ""


def attempt_record(
    *,
    notification: Notification,
    lock_token: uuid.UUID,
    attempt: AttemptData,
    transition: Transition | None,
    now: datetime,
) -> Attempt | None:
    """Save an attempt and the transition it leads to (None: the status stays), releasing the claim.

    Call inside a transaction. Answers None, saving nothing, when the claim was lost: the lease ran out during
    the POST and another worker took over the same attempt number, so that worker's record stands.
    """
    fields = {
        "attempt_count": F("attempt_count") + 1,
        "last_status_code": attempt.response_status,
        "last_attempt_at": attempt.started_at,
        "locked_until": None,
        "lock_token": None,
        "updated_at": now,
    }
    if attempt.trigger == AttemptTrigger.AUTOMATIC:
        fields["automatic_attempt_count"] = F("automatic_attempt_count") + 1
    else:
        fields["resend_requested_at"] = None
    if transition is not None:
        fields.update(
            status=transition.status, next_attempt_at=transition.next_attempt_at, status_reason=transition.reason
        )
        if transition.status == NotificationStatus.DELIVERED:
            fields["delivered_at"] = now
    # The claim is checked by the UPDATE itself: it changes nothing unless this worker still holds it.
    if not Notification.objects.filter(pk=notification.pk, lock_token=lock_token).update(**fields):
        return None
    return Attempt.objects.create(notification_id=notification.pk, **asdict(attempt))


def notification_release(*, notification_id: int, lock_token: uuid.UUID) -> None:
    Notification.objects.filter(pk=notification_id, lock_token=lock_token).update(locked_until=None, lock_token=None)


def notification_cancel(*, notification_id: int, reason: str, now: datetime | None = None) -> None:
    """Stop what was left to send of a notification (its configuration was disabled or removed), unclaimed.

    An open notification becomes cancelled; a pending manual resend is dropped; a final status stays.
    """
    now = now or timezone.now()
    with transaction.atomic():
        Notification.objects.filter(pk=notification_id).update(
            resend_requested_at=None, locked_until=None, lock_token=None, updated_at=now
        )
        Notification.objects.filter(pk=notification_id, status__in=OPEN_STATUSES).update(
            status=NotificationStatus.CANCELLED, status_reason=reason, next_attempt_at=None
        )


def notifications_cancel_for_configuration(*, configuration_id: int, reason: str, now: datetime | None = None) -> int:
    """Stop every open, non-test notification of a configuration; answers how many."""
    now = now or timezone.now()
    open_ones = Notification.objects.filter(configuration_id=configuration_id, status__in=OPEN_STATUSES, is_test=False)
    return open_ones.update(
        status=NotificationStatus.CANCELLED,
        status_reason=reason,
        next_attempt_at=None,
        updated_at=now,
    )


def notifications_request_resend(*, notification_ids: Iterable[int], now: datetime) -> list[int]:
    """Ask for one manual attempt of each notification; answers the ids whose request is new.

    A notification whose resend is already waiting is left alone, so asking twice sends once.
    """
    ids = list(notification_ids)
    fresh = list(
        Notification.objects.filter(
            pk__in=ids, resend_requested_at__isnull=True, configuration__isnull=False
        ).values_list("id", flat=True)
    )
    Notification.objects.filter(pk__in=fresh).update(resend_requested_at=now, enqueued_at=now, updated_at=now)
    return fresh


def bulk_resend_create(
    *,
    owner_id: int,
    configuration_id: int,
    window_start: datetime,
    window_end: datetime,
    statuses: Sequence[str],
    total: int,
    now: datetime,
) -> BulkResend:
    return BulkResend.objects.create(
        owner_id=owner_id,
        configuration_id=configuration_id,
        window_start=window_start,
        window_end=window_end,
        statuses=list(statuses),
        total=total,
        enqueued_at=now,
    )


def bulk_resend_advance(*, job_id: int, last_notification_id: int, requested: int, now: datetime) -> None:
    """Record a batch done: the job resumes after ``last_notification_id`` if its worker dies."""
    BulkResend.objects.filter(pk=job_id).update(
        status=BulkResendStatus.RUNNING,
        last_notification_id=last_notification_id,
        requested=F("requested") + requested,
        enqueued_at=now,
        updated_at=now,
    )


def bulk_resend_finish(*, job_id: int, now: datetime) -> None:
    BulkResend.objects.filter(pk=job_id).update(status=BulkResendStatus.DONE, finished_at=now, updated_at=now)


def bulk_resends_mark_enqueued(*, job_ids: Iterable[int], at: datetime) -> None:
    BulkResend.objects.filter(pk__in=list(job_ids)).update(enqueued_at=at)


def notifications_mark_enqueued(*, notification_ids: Iterable[int], at: datetime) -> int:
    """Remember when a message for these notifications is expected to be picked up."""
    ids = list(notification_ids)
    if not ids:
        return 0
    return Notification.objects.filter(pk__in=ids).update(enqueued_at=at)


def history_purge(*, before: datetime, batch_size: int) -> int:
    """Delete events older than ``before`` (with their notifications and attempts), a batch at a time."""
    deleted = 0
    while True:
        ids = list(Event.objects.filter(created_at__lt=before).order_by("id").values_list("id", flat=True)[:batch_size])
        if not ids:
            return deleted
        with transaction.atomic():
            Attempt.objects.filter(notification__event_id__in=ids).delete()
            Notification.objects.filter(event_id__in=ids).delete()
            Event.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        BulkResend.objects.filter(created_at__lt=before).delete()
