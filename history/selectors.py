"""Queries on events, notifications and attempts shared by the engine, the CLI, the pages and the API."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from configurations.models import Configuration
from history.choices import (
    OPEN_STATUSES,
    AttemptTrigger,
    BulkResendStatus,
    NotificationStatus,
)
from history.models import Attempt, BulkResend, Event, Notification

# What enabling a configuration again offers to resend.
RESEND_OFFER_STATUSES = (NotificationStatus.FAILED, NotificationStatus.CANCELLED)

# --- For the engine ---------------------------------------------------------------------------------------


def bulk_resends_stalled(*, now: datetime, grace_seconds: float) -> list[int]:
    """Bulk resend jobs not finished whose worker has not reported for a while: to be enqueued again."""
    stale = now - timedelta(seconds=grace_seconds)
    return list(
        BulkResend.objects.exclude(status=BulkResendStatus.DONE)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=stale))
        .values_list("id", flat=True)
    )


def bulk_resend_candidates(*, job: BulkResend, after_id: int, limit: int) -> list[int]:
    """The next batch of the job's notifications, in id order after ``after_id``."""
    return list(_bulk_resend_scope(job).filter(pk__gt=after_id).order_by("id").values_list("id", flat=True)[:limit])


def bulk_resend_candidates_count(
    *, configuration_id: int, window_start: datetime, window_end: datetime, statuses: Sequence[str]
) -> int:
    return Notification.objects.filter(
        configuration_id=configuration_id,
        status__in=list(statuses),
        is_test=False,
        created_at__gte=window_start,
        created_at__lte=window_end,
    ).count()


def _bulk_resend_window(job: BulkResend) -> QuerySet[Notification]:
    """The notifications a job looks at, whatever their status is now."""
    return Notification.objects.filter(
        configuration_id=job.configuration_id,
        is_test=False,
        created_at__gte=job.window_start,
        created_at__lte=job.window_end,
        created_at__lt=job.created_at,
    )


def _bulk_resend_scope(job: BulkResend) -> QuerySet[Notification]:
    return _bulk_resend_window(job).filter(status__in=job.statuses)


# --- For people: history, detail, overview ----------------------------------------------------------------


@dataclass(frozen=True)
class NotificationFilters:
    status: str | None = None
    statuses: tuple[str, ...] = ()  # any of these (e.g. the open ones), on top of ``status``
    event_type: str | None = None
    configuration_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    query: str | None = None  # a transaction code or a buyer e-mail, exactly
    is_test: bool | None = None


@dataclass(frozen=True)
class Page:
    items: list  # notifications, or whatever rows the paged queryset holds
    next_cursor: str | None


def encode_cursor(row) -> str:
    """The position just after ``row`` (anything with ``created_at`` and ``pk``) in a newest-first list."""
    raw = f"{row.created_at.isoformat()}|{row.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Raises ValidationError (field ``cursor``) for anything that is not a cursor this code made."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, pk = raw.split("|")
        parsed, number = parse_datetime(moment), int(pk)
        # Only what encode_cursor makes: an aware time and an id the database's 64-bit integers can hold.
        if parsed is None or timezone.is_naive(parsed) or not 0 < number < 2**63:
            raise ValueError(moment)
        return parsed, number
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ValidationError({"cursor": "This page link is not valid; start again from the first page."}) from None


def notification_search(
    *, owner_id: int, filters: NotificationFilters = NotificationFilters(), cursor: str | None = None, limit: int = 50
) -> Page:
    """One page of an owner's notifications, newest first, with keyset pagination (no OFFSET, no COUNT).

    Each filter narrows an index that starts with the owner; a transaction code or e-mail is looked up in
    the events' own indexes first.
    """
    queryset = Notification.objects.filter(owner_id=owner_id)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.statuses:
        queryset = queryset.filter(status__in=list(filters.statuses))
    if filters.event_type:
        queryset = queryset.filter(event_type=filters.event_type)
    if filters.configuration_id:
        queryset = queryset.filter(configuration_id=filters.configuration_id)
    if filters.since:
        queryset = queryset.filter(created_at__gte=filters.since)
    if filters.until:
        queryset = queryset.filter(created_at__lte=filters.until)
    if filters.is_test is not None:
        queryset = queryset.filter(is_test=filters.is_test)
    if filters.query:
        term = filters.query.strip()
        # Not narrowed to the owner's events: an affiliate's notifications report its producer's events. The
        # notifications themselves are the owner's, so nothing of another account shows.
        events = Event.objects.filter(Q(transaction=term) | Q(buyer_email=term.lower()))
        queryset = queryset.filter(event_id__in=events.values("id"))
    queryset = queryset.select_related("configuration", "event").defer("payload", "event__facts")
    return keyset_page(queryset, cursor=cursor, limit=limit)


def keyset_page(queryset: QuerySet, *, cursor: str | None, limit: int) -> Page:
    """One page of ``queryset`` newest first by (``created_at``, id), after ``cursor``: no OFFSET, no COUNT,
    so a deep page costs what the first one does. Raises ValidationError on ``cursor`` for a bad cursor."""
    if cursor:
        moment, pk = decode_cursor(cursor)
        # The plain created_at bound lets the index start right at the cursor (the OR alone is a filter, and
        # the database would walk every newer row of the index to get there).
        queryset = queryset.filter(created_at__lte=moment).filter(
            Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk)
        )
    rows = list(queryset.order_by("-created_at", "-id")[: limit + 1])
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return Page(items=rows[:limit], next_cursor=next_cursor)


def notification_list(
    *, owner_id: int | None = None, status: str | None = None, limit: int = 50
) -> QuerySet[Notification]:
    queryset = Notification.objects.select_related("event", "configuration").order_by("-created_at", "-id")
    if owner_id is not None:
        queryset = queryset.filter(owner_id=owner_id)
    if status:
        queryset = queryset.filter(status=status)
    return queryset[:limit]


def notification_get(*, notification_id: int, owner_id: int | None = None) -> Notification | None:
    queryset = Notification.objects.select_related("event", "configuration", "event__product").prefetch_related(
        "attempts"
    )
    if owner_id is not None:
        queryset = queryset.filter(owner_id=owner_id)
    return queryset.filter(pk=notification_id).first()


def event_list(*, owner_id: int, event_ids: Sequence[int]) -> list[Event]:
    """The owner's events among ``event_ids``, oldest first, without their facts (the simulator's outcome card)."""
    ids = [event_id for event_id in event_ids if isinstance(event_id, int)]
    if not ids:
        return []
    return list(Event.objects.filter(owner_id=owner_id, pk__in=ids).defer("facts").order_by("occurred_at", "id"))


def event_deliveries(*, events: Sequence[Event]) -> dict[int, list[Notification]]:
    """Where each event went: event id -> its notifications (the producer's and affiliates'), in one query.

    The caller scopes ``events`` to their owner; an affiliate's notification is listed with its owner so a page
    can say whose it is without showing it.
    """
    found: dict[int, list[Notification]] = {event.pk: [] for event in events}
    if not found:
        return found
    rows = (
        Notification.objects.filter(event_id__in=list(found))
        .select_related("configuration", "owner")
        .defer("payload")
        .order_by("id")
    )
    for notification in rows:
        found[notification.event_id].append(notification)
    return found


def bulk_resend_get(*, owner_id: int, job_id: int) -> BulkResend | None:
    return BulkResend.objects.filter(owner_id=owner_id, pk=job_id).select_related("configuration").first()


def bulk_resend_list(*, owner_id: int, configuration_id: int | None = None, limit: int = 20) -> list[BulkResend]:
    queryset = BulkResend.objects.filter(owner_id=owner_id).select_related("configuration")
    if configuration_id:
        queryset = queryset.filter(configuration_id=configuration_id)
    return list(queryset.order_by("-created_at", "-id")[:limit])


def bulk_resend_sent_count(*, job: BulkResend) -> int:
    """How many of the job's notifications have had their resend attempt made since the job started.

    Counted from the manual attempts of the notifications the job has gone through (up to its cursor): a
    resend that succeeds moves its notification out of the job's statuses, so the job's scope no longer
    finds it.
    """
    gone_through = _bulk_resend_window(job).filter(pk__lte=job.last_notification_id)
    return (
        Attempt.objects.filter(
            notification__in=gone_through, trigger=AttemptTrigger.MANUAL, started_at__gte=job.created_at
        )
        .values("notification_id")
        .distinct()
        .count()
    )


def latest_status_codes(*, configuration_ids: Sequence[int]) -> dict[int, tuple[str, int | None, datetime]]:
    """For each configuration, its newest notification's (status, last HTTP code, created_at), in one query."""
    ids = list(configuration_ids)
    if not ids:
        return {}
    newest = Notification.objects.filter(configuration_id=OuterRef("pk")).order_by("-created_at", "-id").values("pk")
    newest_ids = Configuration.objects.filter(pk__in=ids).annotate(newest=Subquery(newest[:1])).values("newest")
    rows = Notification.objects.filter(pk__in=newest_ids).values_list(
        "configuration_id", "status", "last_status_code", "created_at"
    )
    return {configuration_id: (status, code, created) for configuration_id, status, code, created in rows}


def delivery_stats(*, owner_id: int, since: datetime | None = None, include_tests: bool = True) -> dict[str, int]:
    """Counts of the owner's notifications by status since a moment (default: the last 24 hours)."""
    since = since or timezone.now() - timedelta(hours=24)
    queryset = Notification.objects.filter(owner_id=owner_id, created_at__gte=since)
    if not include_tests:
        queryset = queryset.filter(is_test=False)
    rows = queryset.values("status").annotate(n=Count("id")).order_by()
    counts = {status: 0 for status in NotificationStatus.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


@dataclass(frozen=True)
class HourBucket:
    """Notifications created in one hour, by outcome so far."""

    start: datetime
    delivered: int = 0
    failed: int = 0  # failed or cancelled
    open: int = 0  # pending or retrying

    @property
    def total(self) -> int:
        return self.delivered + self.failed + self.open


def deliveries_per_hour(*, owner_id: int, now: datetime | None = None, hours: int = 24) -> list[HourBucket]:
    """The last ``hours`` hours of the owner's (non-test) notifications, oldest hour first, by outcome.

    One grouped query over the owner's index; hours are truncated in the current time zone.
    """
    now = timezone.localtime(now or timezone.now())
    current = now.replace(minute=0, second=0, microsecond=0)
    starts = [current - timedelta(hours=h) for h in range(hours - 1, -1, -1)]
    rows = (
        Notification.objects.filter(owner_id=owner_id, is_test=False, created_at__gte=starts[0])
        .annotate(hour=TruncHour("created_at"))
        .values("hour", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[datetime, dict[str, int]] = {start: {"delivered": 0, "failed": 0, "open": 0} for start in starts}
    for row in rows:
        bucket = counts.get(timezone.localtime(row["hour"]))
        if bucket is None:
            continue
        if row["status"] == NotificationStatus.DELIVERED:
            bucket["delivered"] += row["n"]
        elif row["status"] in OPEN_STATUSES:
            bucket["open"] += row["n"]
        else:
            bucket["failed"] += row["n"]
    return [HourBucket(start, **counts[start]) for start in starts]


def configurations_failing(*, owner_id: int) -> list[Configuration]:
    """The owner's configurations that need attention: disabled ones, and active ones whose newest
    non-test notification failed or is being retried."""
    newest = (
        Notification.objects.filter(configuration_id=OuterRef("pk"), is_test=False)
        .order_by("-created_at", "-id")
        .values("status")[:1]
    )
    candidates = (
        Configuration.objects.filter(owner_id=owner_id)
        .select_related("product")
        .annotate(newest_status=Subquery(newest))
        .order_by("name", "id")
    )
    troubled = {NotificationStatus.FAILED, NotificationStatus.RETRYING}
    return [c for c in candidates if not c.is_active or c.newest_status in troubled]


def resend_offer_window(*, configuration: Configuration, now: datetime | None = None) -> tuple[datetime, int] | None:
    """What a disabled configuration missed: (window start, how many) of its non-test notifications that
    failed or were cancelled since deliveries last worked, or None when there are none.

    Disabling stops new notifications from being created for it, so what it missed are the ones created
    before ``disabled_at`` that ended failed or cancelled after the last success (a cancelled notification
    was cancelled at ``disabled_at``). The window runs from the oldest of them to now.
    """
    now = now or timezone.now()
    own = Notification.objects.filter(configuration_id=configuration.pk, is_test=False)
    last_success = (
        own.filter(status=NotificationStatus.DELIVERED, delivered_at__isnull=False)
        .order_by("-created_at", "-id")  # the configuration's index; the newest success is near its top
        .values_list("delivered_at", flat=True)
        .first()
    )
    missed = own.filter(status__in=RESEND_OFFER_STATUSES)
    if last_success is not None:
        missed = missed.filter(updated_at__gte=last_success)
    start = missed.order_by("created_at").values_list("created_at", flat=True).first()
    if start is None:
        return None
    count = bulk_resend_candidates_count(
        configuration_id=configuration.pk, window_start=start, window_end=now, statuses=RESEND_OFFER_STATUSES
    )
    return (start, count) if count else None


@dataclass(frozen=True)
class ResendOffer:
    """What a configuration missed while it failed or was disabled, offered for a bulk resend."""

    since: datetime
    until: datetime
    count: int


def resend_offer_pending(*, configuration: Configuration) -> ResendOffer | None:
    """The resend offered to an active configuration since it was enabled, counted now; None when there is
    none, or nothing of it is left to resend."""
    since, until = configuration.resend_offer_since, configuration.resend_offer_until
    if since is None or until is None or not configuration.is_active:
        return None
    count = bulk_resend_candidates_count(
        configuration_id=configuration.pk, window_start=since, window_end=until, statuses=RESEND_OFFER_STATUSES
    )
    return ResendOffer(since=since, until=until, count=count) if count else None
