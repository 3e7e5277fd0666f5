"""The engine's hot path through the history: claim due notifications in batches, record attempts in batches.

Part of the history's services (the only code that writes notifications and attempts), in a room of its own
because it is SQL: building queries with the ORM cost more CPU than the POSTs themselves. Every statement is
atomic on its own, so several worker processes, on several machines, share the work with no coordinator:

- A **claim** takes up to N due notifications of one lane in one statement, with a lease (``locked_until``,
  longer than any POST can take) and a token. On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets claims run side by
  side without waiting for each other; on SQLite (the sandbox) writes are serialised anyway, and the UPDATE
  checks again that each row is still due and unclaimed. A claimed row leaves its lane's index of due rows
  (whose condition is ``lock_token IS NULL``), so claims never wade through what is in flight; a claim whose
  lease ran out (its worker died) is taken over through the small index of claimed rows.
- A **record** saves a batch of attempts with the status each leads to, each only if its claim still holds
  (the token in the row is the one claimed with), and releases the claims.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from history.choices import OPEN_STATUSES, URL_ERROR_KINDS, URL_ERROR_STATUS_CODES, AttemptTrigger, ErrorKind
from history.choices import NotificationStatus as Status
from history.models import Attempt, Event, Notification
from history.services import AttemptData, Transition, storable


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
    """A notification claimed for one attempt, with everything that attempt needs."""

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
    lane: str
    event_uuid: uuid.UUID
    hottok: str
    configuration: ClaimedConfiguration | None
    claimed_at: datetime | None = None
    # When an earlier claim started that never finished (its worker died mid-attempt); None when there was none.
    interrupted_at: datetime | None = None
    # Every automatic attempt so far found the URL in error (asked only when this one may be the last).
    url_errors_only: bool = True

    @property
    def manual(self) -> bool:
        """A resend its owner asked for, rather than the next automatic attempt."""
        return self.resend_requested_at is not None


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
_OPEN = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
_URL_ERROR = (
    f"t.error_kind IN ({', '.join(repr(str(kind)) for kind in sorted(URL_ERROR_KINDS))})"
    f" OR (t.error_kind = '{ErrorKind.HTTP_STATUS}'"
    f" AND t.response_status IN ({', '.join(str(code) for code in sorted(URL_ERROR_STATUS_CODES))}))"
)
# A claim that finds a token whose lease ran out takes over from a worker that died mid-attempt: it notes when
# that claim started (every right-hand side reads the row as it was before the UPDATE).
_TAKE = (
    "interrupted_claim_at = CASE WHEN lock_token IS NULL THEN NULL ELSE COALESCE(claimed_at, locked_until) END,"
    " locked_until = %s, lock_token = %s, claimed_at = %s"
)
_LOAD = (
    "SELECT n.id, n.payload, n.content_type, n.status, n.is_test, n.attempt_count, n.automatic_attempt_count,"
    " n.resend_requested_at, n.created_at, n.owner_id, n.configuration_id, n.lane, n.claimed_at,"
    " n.interrupted_claim_at, e.uuid, c.url, c.status, c.failing_since, c.signing_enabled, c.owner_id, a.hottok,"
    " CASE WHEN n.resend_requested_at IS NULL AND n.automatic_attempt_count + 1 >= %s THEN NOT EXISTS ("
    f"  SELECT 1 FROM {_T['t']} t WHERE t.notification_id = n.id AND t.trigger = '{AttemptTrigger.AUTOMATIC}'"
    f"  AND NOT ({_URL_ERROR})) ELSE TRUE END"
    " FROM {source} n JOIN " + _T["e"] + " e ON e.id = n.event_id"
    " LEFT JOIN " + _T["c"] + " c ON c.id = n.configuration_id"
    " LEFT JOIN " + _T["a"] + " a ON a.user_id = n.owner_id"
)
# A resend asked for before its event's moment (a scheduled move) waits for that moment: a webhook is never
# sent before the moment it is dated.
_RESENDS_DUE = (
    "resend_requested_at IS NOT NULL AND lane = %s AND (locked_until IS NULL OR locked_until < %s)"
    f" AND EXISTS (SELECT 1 FROM {_T['e']} ev WHERE ev.id = event_id AND ev.occurred_at <= %s)"
)
# Claims whose worker died (their lease ran out with no attempt saved): rare, found through the small index of
# claimed rows. Taking one over records its lost attempt first (engine.attempts.interrupted).
_TAKEOVERS_DUE = (
    f"lock_token IS NOT NULL AND locked_until < %s AND lane = %s AND status IN ({_OPEN}) AND next_attempt_at <= %s"
)
# Unclaimed due rows: a claimed row leaves the lane's index (lock_token IS NULL is in its condition), so a
# claim never wades through what is in flight.
_AUTOMATIC_DUE = f"lane = %s AND status IN ({_OPEN}) AND next_attempt_at <= %s AND lock_token IS NULL"


def notifications_claim(
    *,
    lane: str,
    limit: int,
    now: datetime,
    lease_seconds: float,
    max_attempts: int,
    places: dict[int, int] | None = None,
    default_places: int = 1_000_000,
) -> list[Claimed]:
    """Claim up to ``limit`` notifications of ``lane`` with something to send now: manual resends first, then
    claims a dead worker left, then the open ones that are due, oldest due first.

    ``places``: how many more POSTs each configuration may have in flight in this worker (its fair share);
    a configuration not listed may have ``default_places``. A configuration with no place left is skipped
    by the query itself, so its backlog never stands in front of anyone else's. A claim leaves the row's
    schedule (``next_attempt_at``) as it was.
    """
    if limit <= 0:
        return []
    token = uuid.uuid4()
    until = now + timedelta(seconds=lease_seconds)
    places = places or {}
    room = limit
    room -= _claim_where(
        _RESENDS_DUE, [lane, _dt(now), _dt(now)], "resend_requested_at", limit=room, now=now, until=until, token=token
    )
    if room > 0:
        room -= _claim_where(
            _TAKEOVERS_DUE, [_dt(now), lane, _dt(now)], "locked_until", limit=room, now=now, until=until, token=token
        )
    if room > 0:
        claim_due = _claim_due_postgresql if connection.vendor == "postgresql" else _claim_due_sqlite
        claim_due(lane=lane, limit=room, now=now, until=until, token=token, places=places, default=default_places)
    return _load(token=token, until=until, max_attempts=max_attempts)


def _claim_where(
    where: str, params: list, order_by: str, *, limit: int, now: datetime, until: datetime, token: uuid.UUID
) -> int:
    """Claim up to ``limit`` rows matching ``where``, in ``order_by`` order; answers how many. For the few rows
    that are not held to the fair share: resends a person asked for, claims a dead worker left."""
    take = [_dt(until), _uuid(token), _dt(now)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH picked AS (SELECT id FROM {_T['n']} WHERE {where} ORDER BY {order_by}"
                f" LIMIT %s FOR UPDATE SKIP LOCKED) UPDATE {_T['n']} n SET {_TAKE} FROM picked WHERE n.id = picked.id",
                [*params, limit, *take],
            )
        else:
            cursor.execute(
                f"UPDATE {_T['n']} SET {_TAKE} WHERE id IN (SELECT id FROM {_T['n']} WHERE {where}"
                f" ORDER BY {order_by} LIMIT %s) AND {where}",
                [*take, *params, limit, *params],
            )
        return max(0, cursor.rowcount)


def _claim_due_postgresql(
    *, lane: str, limit: int, now: datetime, until: datetime, token: uuid.UUID, places: dict[int, int], default: int
) -> None:
    full = [configuration_id for configuration_id, left in places.items() if left <= 0]
    partial = {configuration_id: left for configuration_id, left in places.items() if left > 0}
    sql = (
        # Candidates in due order, skipping configurations with no place and rows another claim is taking.
        f"WITH candidates AS (SELECT id, configuration_id, next_attempt_at FROM {_T['n']} WHERE {_AUTOMATIC_DUE}"
        " AND (configuration_id IS NULL OR configuration_id <> ALL(%s::bigint[]))"
        " ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED),"
        # Each configuration gets no more rows than it has places.
        " ranked AS (SELECT candidates.id, candidates.next_attempt_at, row_number() OVER"
        " (PARTITION BY candidates.configuration_id ORDER BY candidates.next_attempt_at, candidates.id) AS place,"
        " COALESCE(room.places, %s) AS places FROM candidates"
        " LEFT JOIN unnest(%s::bigint[], %s::int[]) AS room(configuration_id, places)"
        " ON room.configuration_id = candidates.configuration_id),"
        " picked AS (SELECT id FROM ranked WHERE place <= places ORDER BY next_attempt_at, id LIMIT %s)"
        f" UPDATE {_T['n']} n SET {_TAKE} FROM picked WHERE n.id = picked.id"
    )
    params = [
        lane, _dt(now), full, 2 * limit, default, list(partial), list(partial.values()), limit,
        _dt(until), _uuid(token), _dt(now),
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _claim_due_sqlite(
    *, lane: str, limit: int, now: datetime, until: datetime, token: uuid.UUID, places: dict[int, int], default: int
) -> None:
    """The same claim for SQLite, simpler: pick in Python, then one UPDATE that checks each row again (SQLite
    runs one writer at a time, so a row another process took meanwhile is simply not updated)."""
    full = [configuration_id for configuration_id, left in places.items() if left <= 0]
    skip = ""
    if full:
        skip = f" AND (configuration_id IS NULL OR configuration_id NOT IN ({', '.join(['%s'] * len(full))}))"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, configuration_id FROM {_T['n']} WHERE {_AUTOMATIC_DUE}{skip}"
            " ORDER BY next_attempt_at, id LIMIT %s",
            [lane, _dt(now), *full, 2 * limit],
        )
        taken: dict[int | None, int] = {}
        picked = []
        for pk, configuration_id in cursor.fetchall():
            if taken.get(configuration_id, 0) < places.get(configuration_id, default):
                taken[configuration_id] = taken.get(configuration_id, 0) + 1
                picked.append(pk)
                if len(picked) == limit:
                    break
        if not picked:
            return
        cursor.execute(
            f"UPDATE {_T['n']} SET {_TAKE} WHERE id IN ({', '.join(['%s'] * len(picked))}) AND {_AUTOMATIC_DUE}",
            [_dt(until), _uuid(token), _dt(now), *picked, lane, _dt(now)],
        )


def _load(*, token: uuid.UUID, until: datetime, max_attempts: int) -> list[Claimed]:
    # Every row of this claim has its lease end at ``until``: the index of claimed rows finds them, where the
    # token alone would read the whole table (it did, once per claim).
    with connection.cursor() as cursor:
        cursor.execute(
            _LOAD.format(source=_T["n"])
            + " WHERE n.locked_until = %s AND n.lock_token = %s ORDER BY n.next_attempt_at, n.id",
            [max_attempts, _dt(until), _uuid(token)],
        )
        rows = cursor.fetchall()
    claimed = []
    for row in rows:
        (pk, payload, content_type, status, is_test, attempts, automatic, resend_at, created_at, owner_id,
         configuration_id, lane, claimed_at, interrupted_at, event_uuid, url, c_status, failing_since, signing,
         c_owner, hottok, url_errors_only) = row  # fmt: skip
        configuration = None
        if configuration_id is not None:
            configuration = ClaimedConfiguration(
                configuration_id, url, c_status, _dt_value(failing_since), bool(signing), c_owner
            )
        claimed.append(
            Claimed(
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
                lane=lane,
                event_uuid=event_uuid if isinstance(event_uuid, uuid.UUID) else uuid.UUID(event_uuid),
                hottok=hottok or "",
                configuration=configuration,
                claimed_at=_dt_value(claimed_at),
                interrupted_at=_dt_value(interrupted_at),
                url_errors_only=bool(url_errors_only),
            )
        )
    return claimed


@dataclass(frozen=True)
class Record:
    """One attempt to save, with where it leaves its notification.

    ``transition`` None: the status and schedule stay (a manual resend that failed). ``lane``: the lane the
    notification waits in from now on (None: it stays). ``release``: give the claim up (False only for an
    interrupted attempt recorded before the claimer makes its own).
    """

    notification_id: int
    lock_token: uuid.UUID
    attempt: AttemptData
    transition: Transition | None
    lane: str | None = None
    release: bool = True


_ATTEMPT_FIELDS = [name for name in AttemptData.__dataclass_fields__]
_ATTEMPT_CASTS = {
    "number": "int",
    "trigger": "varchar",
    "started_at": "timestamptz",
    "duration_ms": "int",
    "request_url": "text",
    "request_headers": "jsonb",
    "request_body_sha256": "varchar",
    "response_status": "int",
    "response_headers": "jsonb",
    "response_body": "text",
    "response_body_truncated": "boolean",
    "error_kind": "varchar",
    "error_message": "text",
    "task_id": "varchar",
    "response_escaped": "boolean",
}
_ROW_CASTS = ["bigint", "uuid", "int", "boolean", "boolean", "varchar", "timestamptz", "text", "boolean", "varchar",
              "boolean"] + [_ATTEMPT_CASTS[name] for name in _ATTEMPT_FIELDS]  # fmt: skip
_COLUMNS = ", ".join(f"%s::{cast}[]" for cast in _ROW_CASTS)
_V_COLUMNS = "id, token, auto, manual, moved, status, next_at, reason, delivered, lane, release, " + ", ".join(
    _ATTEMPT_FIELDS
)


def attempts_record(*, records: Sequence[Record], now: datetime | None = None) -> set[int]:
    """Save a batch of attempts with the transitions they lead to; answers the notifications whose attempt
    was saved.

    One statement on PostgreSQL (atomic on its own); one transaction on SQLite. A record whose claim was lost
    (its lease ran out and another worker took over) saves nothing: that worker's record stands. What a
    receiver sent is stored as the database can hold it (``storable``).
    """
    if not records:
        return set()
    now = now or timezone.now()
    rows = [_row(record) for record in records]
    if connection.vendor == "postgresql":
        return _record_postgresql(rows, now)
    return _record_sqlite(rows, now)


def _row(record: Record) -> list:
    attempt = storable(record.attempt)
    transition = record.transition
    reason = transition.reason.replace("\x00", "\\x00") if transition else ""
    manual = attempt.trigger == AttemptTrigger.MANUAL
    values = [
        record.notification_id,
        _uuid(record.lock_token),
        0 if manual else 1,
        manual,
        transition is not None,
        transition.status if transition else "",
        _dt(transition.next_attempt_at) if transition else None,
        reason,
        transition is not None and transition.status == Status.DELIVERED,
        record.lane,
        record.release,
    ]
    for name, value in asdict(attempt).items():
        if name in ("request_headers", "response_headers"):
            value = json.dumps(value)
        elif name == "started_at":
            value = _dt(value)
        values.append(value)
    return values


def _record_postgresql(rows: list[list], now: datetime) -> set[int]:
    attempt_columns = ", ".join(_ATTEMPT_FIELDS)
    # One array per column, unnested into rows: the statement's text is the same for every batch, so neither
    # psycopg nor PostgreSQL parses thousands of placeholders again for each one (a fifth of a worker's CPU).
    sql = (
        f"WITH v ({_V_COLUMNS}) AS (SELECT * FROM unnest({_COLUMNS})),"
        f" updated AS (UPDATE {_T['n']} n SET"
        " attempt_count = n.attempt_count + 1,"
        " automatic_attempt_count = n.automatic_attempt_count + v.auto,"
        " resend_requested_at = CASE WHEN v.manual THEN NULL ELSE n.resend_requested_at END,"
        " status = CASE WHEN v.moved THEN v.status ELSE n.status END,"
        " next_attempt_at = CASE WHEN v.moved THEN v.next_at ELSE n.next_attempt_at END,"
        " status_reason = CASE WHEN v.moved THEN v.reason ELSE n.status_reason END,"
        " delivered_at = CASE WHEN v.delivered THEN %s ELSE n.delivered_at END,"
        " lane = COALESCE(v.lane, n.lane),"
        " last_status_code = v.response_status, last_attempt_at = v.started_at, interrupted_claim_at = NULL,"
        " locked_until = CASE WHEN v.release THEN NULL ELSE n.locked_until END,"
        " lock_token = CASE WHEN v.release THEN NULL ELSE n.lock_token END,"
        " updated_at = %s"
        " FROM v WHERE n.id = v.id AND n.lock_token = v.token RETURNING n.id)"
        f" INSERT INTO {_T['t']} (notification_id, {attempt_columns})"
        f" SELECT v.id, {', '.join('v.' + name for name in _ATTEMPT_FIELDS)} FROM v JOIN updated ON updated.id = v.id"
        " RETURNING notification_id"
    )
    params = [list(column) for column in zip(*rows, strict=True)] + [_dt(now), _dt(now)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _record_sqlite(rows: list[list], now: datetime) -> set[int]:
    saved = set()
    placeholders = ", ".join(["%s"] * (len(_ATTEMPT_FIELDS) + 1))
    insert = f"INSERT INTO {_T['t']} (notification_id, {', '.join(_ATTEMPT_FIELDS)}) VALUES ({placeholders})"
    with transaction.atomic(), connection.cursor() as cursor:
        for row in rows:
            pk, token, auto, manual, moved, status, next_at, reason, delivered, lane, release = row[:11]
            attempt = row[11:]
            sets = ["attempt_count = attempt_count + 1", "automatic_attempt_count = automatic_attempt_count + %s"]
            params: list = [auto]
            if manual:
                sets.append("resend_requested_at = NULL")
            if moved:
                sets += ["status = %s", "next_attempt_at = %s", "status_reason = %s"]
                params += [status, next_at, reason]
            if delivered:
                sets.append("delivered_at = %s")
                params.append(_dt(now))
            if lane:
                sets.append("lane = %s")
                params.append(lane)
            if release:
                sets += ["locked_until = NULL", "lock_token = NULL"]
            started_at, response_status = (
                attempt[_ATTEMPT_FIELDS.index("started_at")],
                attempt[_ATTEMPT_FIELDS.index("response_status")],
            )
            sets += ["last_status_code = %s", "last_attempt_at = %s", "interrupted_claim_at = NULL", "updated_at = %s"]
            params += [response_status, started_at, _dt(now)]
            cursor.execute(
                f"UPDATE {_T['n']} SET {', '.join(sets)} WHERE id = %s AND lock_token = %s", [*params, pk, token]
            )
            if cursor.rowcount != 1:
                continue
            cursor.execute(insert, [pk, *attempt])
            saved.add(pk)
    return saved


def notifications_release(*, notification_ids: Iterable[int], lock_token: uuid.UUID) -> int:
    """Give claims up without an attempt (a worker stopping, a host with no place left): the rows are as they
    were before the claim, due again if they were due."""
    ids = list(notification_ids)
    if not ids:
        return 0
    return Notification.objects.filter(pk__in=ids, lock_token=lock_token).update(
        locked_until=None, lock_token=None, interrupted_claim_at=None
    )


def notifications_cancel_claimed(*, cancels: Sequence[tuple[int, str]], lock_token: uuid.UUID) -> int:
    """Stop claimed notifications whose configuration was removed or disabled, with their reasons, releasing
    the claims: an open one becomes cancelled, a waiting manual resend is dropped, a final status stays."""
    now = timezone.now()
    done = 0
    with transaction.atomic():
        for notification_id, reason in cancels:
            mine = Notification.objects.filter(pk=notification_id, lock_token=lock_token)
            mine.filter(status__in=OPEN_STATUSES).update(status=Status.CANCELLED, status_reason=reason)
            done += mine.update(
                resend_requested_at=None,
                next_attempt_at=None,
                locked_until=None,
                lock_token=None,
                interrupted_claim_at=None,
                updated_at=now,
            )
    return done


def lanes_with_work(*, lanes: Iterable[str], now: datetime) -> list[str]:
    """The lanes among ``lanes`` with a notification to send now (due, or a resend waiting), each found through
    the lane's index in one short query, whatever the backlog."""
    busy = []
    with connection.cursor() as cursor:
        for lane in lanes:
            for where, params in (
                (_AUTOMATIC_DUE, [lane, _dt(now)]),
                (_RESENDS_DUE, [lane, _dt(now), _dt(now)]),
                (_TAKEOVERS_DUE, [_dt(now), lane, _dt(now)]),
            ):
                cursor.execute(f"SELECT 1 FROM {_T['n']} WHERE {where} LIMIT 1", params)
                if cursor.fetchone() is not None:
                    busy.append(lane)
                    break
    return busy


def notifications_move_lane(*, configuration_id: int, to_lane: str, from_lane: str, first_attempts_only: bool) -> int:
    """Move a configuration's open notifications from one lane to another (a receiver that started or stopped
    failing); answers how many moved."""
    moving = Notification.objects.filter(configuration_id=configuration_id, status__in=OPEN_STATUSES, lane=from_lane)
    if first_attempts_only:
        moving = moving.filter(automatic_attempt_count=0)
    return moving.update(lane=to_lane)


def _dt(value: datetime | None):
    return connection.ops.adapt_datetimefield_value(value)


def _uuid(value: uuid.UUID | None):
    return Notification._meta.get_field("lock_token").get_db_prep_value(value, connection)


def _dt_value(value) -> datetime | None:
    """A datetime column read by hand: PostgreSQL gives it aware, SQLite naive (in UTC) or as text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)
