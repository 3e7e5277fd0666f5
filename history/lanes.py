"""Lanes and their doorbells: which Celery queue's workers send a notification, and how they learn there is
work.

A notification waits in its row, in a lane (``Notification.lane``). A Celery message on the lane's queue is only
a doorbell, "lane X has due work": it carries no ids, so a lost, flushed or duplicated message costs nothing,
and a burst of events rings once. The worker that answers claims what is due from the database in batches.
While a doorbell waits unanswered in its queue, ringing again sends nothing (a short-lived Redis key says one
is on its way), so the queue never piles up.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import redis
import structlog
from celery import current_app
from django.conf import settings

from core.queues import DELIVERIES, RETRIES
from core.redis import redis_client

log = structlog.get_logger(__name__)

DOORBELL_TASK = "engine.doorbell"
BULK_RESEND_TASK = "engine.bulk_resend"

# A doorbell on its way: ringing again sends nothing until a worker answers it, or this many ms pass (a doorbell
# taken by a worker that died is not answered).
RINGING_MS = 5000


def lane_for(*, failing: bool, retry: bool = False, owner_id: int | None = None) -> str:
    """A tenant with its own queue gets it for everything; otherwise retries, and anything for a
    configuration that is failing, go to the retries lane."""
    if owner_id is not None:
        tenant_queue = tenant_queues().get(owner_id)
        if tenant_queue:
            return tenant_queue
    return RETRIES if failing or retry else DELIVERIES


def all_lanes() -> list[str]:
    """Every lane a notification can wait in: the two delivery lanes and the tenants' own queues."""
    return list(dict.fromkeys([DELIVERIES, RETRIES, *settings.DISPATCHER_TENANT_QUEUES.values()]))


_tenants: tuple[float, dict[str, str], dict[int, str]] = (0.0, {}, {})


def tenant_queues() -> dict[int, str]:
    """Owner id -> queue, from DISPATCHER_TENANT_QUEUES (usernames), looked up at most once a minute."""
    global _tenants
    configured = settings.DISPATCHER_TENANT_QUEUES
    if not configured:
        return {}
    loaded_at, loaded_for, mapping = _tenants
    if loaded_for != configured or time.monotonic() - loaded_at > 60:
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.filter(username__in=list(configured)).values_list("pk", "username")
        mapping = {pk: configured[username] for pk, username in users}
        _tenants = (time.monotonic(), dict(configured), mapping)
    return mapping


def _ringing_key(lane: str) -> str:
    return f"dispatcher:doorbell:{lane}"


def ring(lanes: Iterable[str]) -> list[str]:
    """Tell each lane's workers there is work; answers the lanes whose doorbell went out now.

    Never raises: with Redis down nothing is lost (the rows are saved; the beat sweep rings once it is back).
    """
    rung = []
    for lane in dict.fromkeys(lanes):
        try:
            if not redis_client().set(_ringing_key(lane), 1, nx=True, px=RINGING_MS):
                continue  # one is on its way already
            current_app.send_task(DOORBELL_TASK, args=[lane], queue=lane)
        except Exception as exc:  # noqa: BLE001 - redis and kombu raise many kinds; all mean "not rung now"
            log.warning(
                "doorbell_failed_will_sweep",
                lane=lane,
                error=str(exc) or type(exc).__name__,
                hint="saved; the beat sweep rings again once Redis and a worker are up",
            )
            continue
        rung.append(lane)
    return rung


def answered(lane: str) -> None:
    """A worker took the lane's doorbell: the next ring sends a new one (before the worker claims, so work
    saved after this moment either is claimed now or rings again)."""
    try:
        redis_client().delete(_ringing_key(lane))
    except redis.RedisError as exc:
        log.warning("doorbell_key_not_cleared", lane=lane, error=str(exc))


def bulk_resends_enqueue(job_ids: Iterable[int]) -> int:
    """Enqueue bulk resend jobs; like deliveries, a lost message is found again by the sweep."""
    sent = 0
    for job_id in job_ids:
        try:
            current_app.send_task(BULK_RESEND_TASK, args=[job_id])
        except Exception as exc:  # noqa: BLE001
            log.warning("enqueue_failed_will_sweep", bulk_resend=job_id, error=str(exc) or type(exc).__name__)
            break
        sent += 1
    return sent
