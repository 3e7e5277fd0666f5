"""Queries on events, notifications and attempts shared by the engine, the CLI, the pages and the API."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from history.choices import (
    OPEN_STATUSES,
    URL_ERROR_KINDS,
    URL_ERROR_STATUS_CODES,
    AttemptTrigger,
    BulkResendStatus,
    ErrorKind,
    NotificationStatus,
)
from history.models import Attempt, BulkResend, Event, Notification

# --- For the engine ---------------------------------------------------------------------------------------


def notifications_due(*, now: datetime, grace_seconds: float, limit: int) -> list[int]:
    """Notifications with something to send and no queued message known to be bringing it.

    Something to send: open and due, or a manual resend requested. No message on its way: never enqueued,
    or enqueued longer than ``grace_seconds`` ago without being picked up (the message was lost, e.g. Redis
    was flushed). Not claimed by a worker right now.
    """
    stale = now - timedelta(seconds=grace_seconds)
    waiting = Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=stale)
    unclaimed = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    due = list(
        Notification.objects.filter(waiting, unclaimed, status__in=OPEN_STATUSES, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    resends = list(
        Notification.objects.filter(waiting, unclaimed, resend_requested_at__isnull=False)
        .order_by("resend_requested_at")
        .values_list("id", flat=True)[: max(0, limit - len(due))]
    )
    return due + [i for i in resends if i not in set(due)]


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


def _bulk_resend_scope(job: BulkResend) -> QuerySet[Notification]:
    return Notification.objects.filter(
        configuration_id=job.configuration_id,
        status__in=job.statuses,
        is_test=False,
        created_at__gte=job.window_start,
        created_at__lte=job.window_end,
        created_at__lt=job.created_at,
    )


def notification_earlier_attempts_all_url_errors(*, notification_id: int) -> bool:
    """True when every automatic attempt recorded so far found the URL in error (or there was none)."""
    url_error = Q(error_kind__in=URL_ERROR_KINDS) | Q(
        error_kind=ErrorKind.HTTP_STATUS, response_status__in=URL_ERROR_STATUS_CODES
    )
    return not (
        Attempt.objects.filter(notification_id=notification_id, trigger=AttemptTrigger.AUTOMATIC)
        .exclude(url_error)
        .exists()
    )


# --- For people: history, detail, overview ----------------------------------------------------------------


@dataclass(frozen=True)
class NotificationFilters:
    status: str | None = None
    event_type: str | None = None
    configuration_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    query: str | None = None  # a transaction code or a buyer e-mail, exactly
    is_test: bool | None = None


@dataclass(frozen=True)
class Page:
    items: list[Notification]
    next_cursor: str | None


def encode_cursor(notification: Notification) -> str:
    raw = f"{notification.created_at.isoformat()}|{notification.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Raises ValidationError (field ``cursor``) for anything that is not a cursor this code made."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, pk = raw.split("|")
        parsed = parse_datetime(moment)
        if parsed is None:
            raise ValueError(moment)
        return parsed, int(pk)
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
    if cursor:
        moment, pk = decode_cursor(cursor)
        queryset = queryset.filter(Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk))
    rows = list(
        queryset.select_related("configuration", "event")
        .defer("payload", "event__facts")
        .order_by("-created_at", "-id")[: limit + 1]
    )
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


def bulk_resend_get(*, owner_id: int, job_id: int) -> BulkResend | None:
    return BulkResend.objects.filter(owner_id=owner_id, pk=job_id).select_related("configuration").first()


def bulk_resend_list(*, owner_id: int, configuration_id: int | None = None, limit: int = 20) -> list[BulkResend]:
    queryset = BulkResend.objects.filter(owner_id=owner_id).select_related("configuration")
    if configuration_id:
        queryset = queryset.filter(configuration_id=configuration_id)
    return list(queryset.order_by("-created_at", "-id")[:limit])


def bulk_resend_sent_count(*, job: BulkResend) -> int:
    """How many of the job's notifications have had their resend attempt made since the job started."""
    return _bulk_resend_scope(job).filter(resend_requested_at__isnull=True, last_attempt_at__gte=job.created_at).count()


def latest_status_codes(*, configuration_ids: Sequence[int]) -> dict[int, tuple[str, int | None, datetime]]:
    """For each configuration, its newest notification's (status, last HTTP code, created_at)."""
    latest: dict[int, tuple[str, int | None, datetime]] = {}
    for configuration_id in configuration_ids:
        row = (
            Notification.objects.filter(configuration_id=configuration_id)
            .order_by("-created_at", "-id")
            .values_list("status", "last_status_code", "created_at")
            .first()
        )
        if row:
            latest[configuration_id] = row
    return latest


def delivery_stats(*, owner_id: int, since: datetime | None = None) -> dict[str, int]:
    """Counts of the owner's notifications by status since a moment (default: the last 24 hours)."""
    since = since or timezone.now() - timedelta(hours=24)
    rows = (
        Notification.objects.filter(owner_id=owner_id, created_at__gte=since)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {status: 0 for status in NotificationStatus.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts
