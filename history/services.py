"""The only code that writes events, notifications and attempts (with ``history/claims.py``, the engine's
hot path: batch claims and batch records, in SQL).

A notification moves through its statuses here only: claimed by one worker at a time (a lease in the row),
an attempt recorded together with the status it leads to, cancelled when its configuration goes away.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.queues import DELIVERIES
from history.choices import NO_STATUS, OPEN_STATUSES, AttemptTrigger, BulkResendStatus, ErrorKind, NotificationStatus
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
    lane: str = DELIVERIES  # the Celery queue whose workers send it


def notifications_create(
    *,
    event: Event,
    items: Sequence[NewNotification],
    now: datetime,
    is_test: bool = False,
    send_at: datetime | None = None,
) -> list[Notification]:
    """Save one pending notification per item, due now, each in its lane (the caller rings the lanes' doorbells
    once the transaction commits). With ``send_at`` (a scheduled event) they are due then instead: the sweep
    rings their lane when they are."""
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
            next_attempt_at=send_at or now,
            lane=item.lane,
        )
        for item in items
    ]
    return Notification.objects.bulk_create(notifications)


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
    response_escaped: bool = False


@dataclass(frozen=True)
class Transition:
    """Where an attempt leaves its notification."""

    status: str
    next_attempt_at: datetime | None = None
    reason: str = ""


_NUL = "\x00"


def storable(attempt: AttemptData) -> AttemptData:
    """The attempt with what a receiver sent made storable: text and JSON columns cannot hold NUL (PostgreSQL
    refuses the row), so each NUL in the body, the headers or the error is kept escaped as ``\\x00`` (the way
    bytes that are not UTF-8 already are), and the attempt says so (``response_escaped``)."""
    texts = [attempt.response_body, attempt.error_message, attempt.request_url]
    texts += [text for item in attempt.response_headers.items() for text in item]
    if not any(_NUL in text for text in texts):
        return attempt

    return replace(
        attempt,
        response_body=_escape_nul(attempt.response_body),
        error_message=_escape_nul(attempt.error_message),
        request_url=_escape_nul(attempt.request_url),
        response_headers={_escape_nul(name): _escape_nul(value) for name, value in attempt.response_headers.items()},
        response_escaped=True,
    )


def _escape_nul(text: str) -> str:
    return text.replace(_NUL, "\\x00")


INTERRUPTED_MESSAGE = (
    "The worker stopped (killed or restarted) during this attempt: the POST may or may not have reached the receiver."
)


def attempt_interrupted(
    *,
    number: int,
    manual: bool,
    started_at: datetime,
    request_url: str,
    payload: str,
    request_headers: dict | None = None,
    task_id: str = "",
) -> AttemptData:
    """The record of an attempt cut off by a dead worker: its outcome unknown (-1, interrupted), so that it counts.
    The one way such a record is made, by the claim that takes over (``engine.attempts.interrupted``) and by the
    sweep (``notifications_close_interrupted``)."""
    return AttemptData(
        number=number,
        trigger=AttemptTrigger.MANUAL if manual else AttemptTrigger.AUTOMATIC,
        started_at=started_at,
        duration_ms=0,
        request_url=request_url,
        request_headers=request_headers or {},
        request_body_sha256=hashlib.sha256(payload.encode("utf-8")).hexdigest(),
        response_status=NO_STATUS,
        response_headers={},
        response_body="",
        response_body_truncated=False,
        error_kind=ErrorKind.INTERRUPTED,
        error_message=INTERRUPTED_MESSAGE,
        task_id=task_id,
    )


def notifications_close_interrupted(*, now: datetime, limit: int = 500) -> int:
    """Record the attempts cut off by a dead worker on notifications nobody claims again (final, with no resend
    waiting: e.g. cancelled while the attempt was in flight), as interrupted, and clear their claims; answers
    how many. An open one is handled by the claim that takes it over (the engine records it then)."""
    stale = (
        Notification.objects.filter(lock_token__isnull=False, locked_until__lt=now, resend_requested_at__isnull=True)
        .exclude(status__in=OPEN_STATUSES)
        .select_related("configuration")[:limit]
    )
    closed = 0
    for notification in stale:
        with transaction.atomic():
            taken = Notification.objects.filter(pk=notification.pk, lock_token=notification.lock_token).update(
                lock_token=None,
                locked_until=None,
                attempt_count=F("attempt_count") + 1,
                last_status_code=-1,
                last_attempt_at=notification.claimed_at or now,
                updated_at=now,
            )
            if not taken:
                continue
            attempt = attempt_interrupted(
                number=notification.attempt_count + 1,
                manual=False,
                started_at=notification.claimed_at or now,
                request_url=notification.configuration.url if notification.configuration else "",
                payload=notification.payload,
            )
            Attempt.objects.create(notification=notification, **asdict(attempt))
        closed += 1
    return closed


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


def notifications_request_resend(*, notification_ids: Iterable[int], now: datetime, lane: str) -> list[int]:
    """Ask for one manual attempt of each notification, sent by the workers of ``lane``; answers the ids whose
    request is new.

    A notification whose resend is already waiting (or on its way) is left alone, so asking twice sends once.
    """
    ids = list(notification_ids)
    waiting = Notification.objects.filter(pk__in=ids, resend_requested_at__isnull=True, configuration__isnull=False)
    fresh = list(waiting.values_list("id", flat=True))
    # Conditional again: of two requests racing for the same notification, one asks.
    Notification.objects.filter(pk__in=fresh, resend_requested_at__isnull=True).update(
        resend_requested_at=now, lane=lane, updated_at=now
    )
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


@dataclass(frozen=True)
class CheckNotification:
    """A test notification a receiver check is about to send itself: its event and the exact body."""

    event_type: str
    event_uuid: uuid.UUID
    occurred_at: datetime
    facts: dict
    transaction_code: str
    buyer_email: str
    payload: str
    content_type: str
    reason: str


def receiver_check_notifications_create(
    *, owner_id: int, configuration_id: int | None, target_url: str, items: Sequence[CheckNotification]
) -> list[Notification]:
    """Save the test notifications a receiver check is about to send, with their events, final from the start.

    A receiver check makes its POSTs itself, outside the delivery engine; saving them first gives each POST its
    notification's id (``X-Dispatcher-Delivery-Id``) as a delivery has. They are ``failed`` with no attempt and
    no next attempt until ``receiver_check_record`` saves what came back: never pending, due or claimed, so the
    engine never sends, sweeps or retries them. ``target_url`` says where they go when there is no
    configuration (a check of a bare URL); such a notification is never offered for a resend.
    """
    with transaction.atomic():
        events = Event.objects.bulk_create(
            [
                Event(
                    uuid=item.event_uuid,
                    owner_id=owner_id,
                    event_type=item.event_type,
                    occurred_at=item.occurred_at,
                    facts=item.facts,
                    transaction=item.transaction_code,
                    buyer_email=item.buyer_email.strip().lower(),
                )
                for item in items
            ]
        )
        notifications = [
            Notification(
                event=event,
                owner_id=owner_id,
                configuration_id=configuration_id,
                target_url="" if configuration_id else target_url,
                event_type=item.event_type,
                is_test=True,
                payload=item.payload,
                content_type=item.content_type,
                status=NotificationStatus.FAILED,
                status_reason=item.reason,
            )
            for event, item in zip(events, items, strict=True)
        ]
        return Notification.objects.bulk_create(notifications)


def receiver_check_record(*, notification_id: int, attempts: Sequence[AttemptData], reason: str) -> None:
    """Save the attempts a receiver check made of one of its notifications (made storable, as the engine's
    are), and the final status they lead to: ``delivered`` when the last one got a 2xx, ``failed`` otherwise.
    Never a next attempt."""
    if not attempts:
        raise ValueError("a receiver check records the POSTs it made: at least one attempt")
    attempts = [storable(attempt) for attempt in attempts]
    last = attempts[-1]
    delivered = 200 <= last.response_status < 300
    now = timezone.now()
    with transaction.atomic():
        Attempt.objects.bulk_create([Attempt(notification_id=notification_id, **asdict(a)) for a in attempts])
        Notification.objects.filter(pk=notification_id, is_test=True).update(
            status=NotificationStatus.DELIVERED if delivered else NotificationStatus.FAILED,
            status_reason=reason,
            attempt_count=len(attempts),
            automatic_attempt_count=sum(1 for a in attempts if a.trigger == AttemptTrigger.AUTOMATIC),
            last_status_code=last.response_status,
            last_attempt_at=last.started_at,
            delivered_at=now if delivered else None,
            next_attempt_at=None,
            updated_at=now,
        )
