"""The only code that writes events, notifications and attempts.

A notification moves through its statuses here only: claimed by one worker at a time (a lease in the row),
an attempt recorded together with the status it leads to, cancelled when its configuration goes away.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from history.choices import OPEN_STATUSES, AttemptTrigger, BulkResendStatus, ErrorKind, NotificationStatus
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


@dataclass
class ClaimedConfiguration:
    """What sending needs of a notification's configuration, as it was when the claim was made."""

    pk: int
    url: str
    status: str
    failing_since: datetime | None
    signing_enabled: bool
    owner_id: int

    @property
    def is_active(self) -> bool:
        return self.status == "active"


@dataclass
class Claimed:
    """A notification claimed for one attempt, with everything that attempt needs (see notification_claim)."""

    pk: int
    lock_token: uuid.UUID
    payload: str
    content_type: str
    status: str
    is_test: bool
    attempt_count: int
    automatic_attempt_count: int
    resend_requested_at: datetime | None
    created_at: datetime
    owner_id: int
    configuration_id: int | None
    event_uuid: uuid.UUID
    hottok: str
    configuration: ClaimedConfiguration | None
    claimed_at: datetime | None = None
    # When an earlier claim started that never finished (its worker died mid-attempt); None when there was none.
    interrupted_at: datetime | None = None


def notification_claim(*, notification_id: int, now: datetime, lease_seconds: float) -> Claimed | None:
    """Take the right to send the notification's next attempt, or None.

    There is one to send when it is open and due (an automatic attempt) or when its owner asked for a resend
    (a manual one). None when there is none, or when another worker holds a claim whose lease has not run
    out. The claim is one conditional UPDATE, so two workers holding the same message can never both win it.

    This is the delivery's hot path, so it is written in SQL (the ORM's query building cost more CPU than
    the POST itself): the UPDATE, then one SELECT of the notification, its event's id, its configuration and
    the recipient's hottok.
    """
    token = uuid.uuid4()
    claim_params = [
        _dt_param(now + timedelta(seconds=lease_seconds)),
        _uuid_param(token),
        _dt_param(now),
        notification_id,
        *OPEN_STATUSES,
        _dt_param(now),
        _dt_param(now),
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One round trip: the UPDATE's returned row joined in the same statement.
            cursor.execute(_CLAIM_AND_LOAD_SQL, claim_params)
        else:
            cursor.execute(_CLAIM_SQL, claim_params)
            if cursor.rowcount != 1:
                return None
            cursor.execute(
                _LOAD_SQL.format(source=_T["n"]) + " WHERE n.id = %s AND n.lock_token = %s",
                [
                    notification_id,
                    _uuid_param(token),
                ],
            )
        row = cursor.fetchone()
    if row is None:
        return None
    (pk, payload, content_type, status, is_test, attempts, automatic, resend_at, created_at, owner_id,
     configuration_id, claimed_at, interrupted_at, event_uuid, url, c_status, failing_since, signing, c_owner,
     hottok) = row  # fmt: skip
    configuration = None
    if configuration_id is not None:
        configuration = ClaimedConfiguration(
            configuration_id, url, c_status, _dt_value(failing_since), bool(signing), c_owner
        )
    return Claimed(
        pk=pk,
        lock_token=token,
        payload=payload,
        content_type=content_type,
        status=status,
        is_test=bool(is_test),
        attempt_count=attempts,
        automatic_attempt_count=automatic,
        resend_requested_at=_dt_value(resend_at),
        created_at=_dt_value(created_at),
        owner_id=owner_id,
        configuration_id=configuration_id,
        event_uuid=event_uuid if isinstance(event_uuid, uuid.UUID) else uuid.UUID(event_uuid),
        hottok=hottok or "",
        configuration=configuration,
        claimed_at=_dt_value(claimed_at),
        interrupted_at=_dt_value(interrupted_at),
    )


def _tables() -> dict[str, str]:
    from configurations.models import Account, Configuration

    return {
        "n": Notification._meta.db_table,
        "e": Event._meta.db_table,
        "c": Configuration._meta.db_table,
        "a": Account._meta.db_table,
        "t": Attempt._meta.db_table,
    }


_T = _tables()
# A claim that finds a token whose lease ran out takes over from a worker that died mid-attempt: it notes when
# that claim started (every right-hand side reads the row as it was before this UPDATE).
_CLAIM_SQL = (
    f"UPDATE {_T['n']} SET interrupted_claim_at = CASE WHEN lock_token IS NULL THEN NULL"
    " ELSE COALESCE(claimed_at, locked_until) END,"
    " locked_until = %s, lock_token = %s, claimed_at = %s WHERE id = %s"
    " AND ((status IN (%s, %s) AND next_attempt_at <= %s) OR resend_requested_at IS NOT NULL)"
    " AND (locked_until IS NULL OR locked_until < %s)"
)
_LOAD_SQL = (
    "SELECT n.id, n.payload, n.content_type, n.status, n.is_test, n.attempt_count, n.automatic_attempt_count,"
    " n.resend_requested_at, n.created_at, n.owner_id, n.configuration_id, n.claimed_at, n.interrupted_claim_at,"
    " e.uuid,"
    " c.url, c.status, c.failing_since, c.signing_enabled, c.owner_id, a.hottok"
    " FROM {source} n JOIN " + _T["e"] + " e ON e.id = n.event_id"
    " LEFT JOIN " + _T["c"] + " c ON c.id = n.configuration_id"
    " LEFT JOIN " + _T["a"] + " a ON a.user_id = n.owner_id"
)
_CLAIM_AND_LOAD_SQL = f"WITH claimed AS ({_CLAIM_SQL} RETURNING *) " + _LOAD_SQL.format(source="claimed")


def _dt_param(value: datetime | None):
    return connection.ops.adapt_datetimefield_value(value)


def _uuid_param(value: uuid.UUID | None):
    return Notification._meta.get_field("lock_token").get_db_prep_value(value, connection)


def _dt_value(value) -> datetime | None:
    """A datetime column read by hand: PostgreSQL gives it aware, SQLite naive (in UTC) or as text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


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


def attempt_record(
    *,
    notification: Claimed,
    lock_token: uuid.UUID,
    attempt: AttemptData,
    transition: Transition | None,
    now: datetime,
    release: bool = True,
) -> int | None:
    """Save an attempt and the transition it leads to (None: the status stays), releasing the claim unless
    ``release`` is False (an interrupted attempt recorded before the claimer makes its own); answers the
    attempt's id.

    Atomic on its own (one statement on PostgreSQL). Answers None, saving nothing, when the claim was lost:
    the lease ran out during the POST and another worker took over the same attempt number, so that worker's
    record stands. What the receiver answered is stored as the database can hold it (``storable``). In SQL,
    like the claim: this runs once per attempt.
    """
    attempt = storable(attempt)
    if transition is not None and _NUL in transition.reason:  # a reason quoting the receiver's answer
        transition = replace(transition, reason=_escape_nul(transition.reason))
    sets = [
        "attempt_count = attempt_count + 1",
        "last_status_code = %s",
        "last_attempt_at = %s",
        "interrupted_claim_at = NULL",
        "updated_at = %s",
    ]
    if release:
        sets += ["locked_until = NULL", "lock_token = NULL"]
    params: list = [attempt.response_status, _dt_param(attempt.started_at), _dt_param(now)]
    if attempt.trigger == AttemptTrigger.AUTOMATIC:
        sets.append("automatic_attempt_count = automatic_attempt_count + 1")
    else:
        sets.append("resend_requested_at = NULL")
    if transition is not None:
        sets += ["status = %s", "next_attempt_at = %s", "status_reason = %s"]
        params += [transition.status, _dt_param(transition.next_attempt_at), transition.reason]
        if transition.status == NotificationStatus.DELIVERED:
            sets.append("delivered_at = %s")
            params.append(_dt_param(now))
    fields = asdict(attempt)
    columns = ", ".join(["notification_id", *fields])
    values = [_prep(Attempt, name, value) for name, value in fields.items()]
    placeholders = ", ".join(["%s"] * len(values))
    # The claim is checked by the UPDATE itself: it changes nothing unless this worker still holds it.
    update = f"UPDATE {_T['n']} SET {', '.join(sets)} WHERE id = %s AND lock_token = %s"
    update_params = [*params, notification.pk, _uuid_param(lock_token)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement, atomic on its own: the attempt is inserted only if the UPDATE found the claim.
            cursor.execute(
                f"WITH updated AS ({update} RETURNING id) "
                f"INSERT INTO {_T['t']} ({columns}) SELECT updated.id, {placeholders} FROM updated RETURNING id",
                [*update_params, *values],
            )
            row = cursor.fetchone()
            return row[0] if row else None
        with transaction.atomic():
            cursor.execute(update, update_params)
            if cursor.rowcount != 1:
                return None
            cursor.execute(
                f"INSERT INTO {_T['t']} ({columns}) VALUES (%s, {placeholders}) RETURNING id",
                [notification.pk, *values],
            )
            return cursor.fetchone()[0]


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


def _prep(model, name: str, value):
    return model._meta.get_field(name).get_db_prep_save(value, connection)


INTERRUPTED_MESSAGE = (
    "The worker stopped (killed or restarted) during this attempt: the POST may or may not have reached the receiver."
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
            Attempt.objects.create(
                notification=notification,
                number=notification.attempt_count + 1,
                trigger=AttemptTrigger.AUTOMATIC,
                started_at=notification.claimed_at or now,
                duration_ms=0,
                request_url=notification.configuration.url if notification.configuration else "",
                request_headers={},
                request_body_sha256=hashlib.sha256(notification.payload.encode("utf-8")).hexdigest(),
                response_status=-1,
                error_kind=ErrorKind.INTERRUPTED,
                error_message=INTERRUPTED_MESSAGE,
            )
        closed += 1
    return closed


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
