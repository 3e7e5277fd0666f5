"""Queries on events, notifications and attempts shared by the engine, the CLI and the pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from history.choices import OPEN_STATUSES, URL_ERROR_KINDS, URL_ERROR_STATUS_CODES, AttemptTrigger, ErrorKind
from history.models import Attempt, Notification


def notifications_due(*, now: datetime, grace_seconds: float, limit: int) -> list[int]:
    """Open notifications that are due and that no queued message is known to be bringing.

    That is: never enqueued, or enqueued longer than ``grace_seconds`` ago without being picked up (the
    message was lost, e.g. Redis was flushed), and not claimed by a worker right now.
    """
    stale = now - timedelta(seconds=grace_seconds)
    return list(
        Notification.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=stale))
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
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
