"""The doorbell: put notification ids on the Celery queue. The database row is the notification itself."""

from __future__ import annotations

import time
from collections.abc import Iterable

import structlog
from django.conf import settings

from dispatcher.celery import app as celery_app

log = structlog.get_logger(__name__)

DELIVER_TASK = "dispatcher.deliver"
BULK_RESEND_TASK = "dispatcher.bulk_resend"

# The delivery lanes (queues): see CELERY_TASK_QUEUES in dispatcher/settings.py.
DELIVERIES = "deliveries"
RETRIES = "retries"


def lane_for(*, failing: bool, retry: bool = False, owner_id: int | None = None) -> str:
    """A tenant with its own queue gets it for everything; otherwise retries, and anything for a
    configuration that is failing, go to the retries lane."""
    if owner_id is not None:
        tenant_queue = tenant_queues().get(owner_id)
        if tenant_queue:
            return tenant_queue
    return RETRIES if failing or retry else DELIVERIES


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


def deliveries_enqueue(
    notification_ids: Iterable[int], *, countdown: float | None = None, lane: str = DELIVERIES
) -> int:
    """Ring the doorbell for these notifications; answers how many ids went out.

    Ids travel in messages of up to DISPATCHER_BATCH_SIZE (a fan-out or a sweep makes one message, not one
    per notification), and a worker delivers a message's notifications side by side. A broker that is down
    loses nothing: the rows are saved, and the sweep enqueues them again once their ``enqueued_at`` is older
    than the grace period.
    """
    ids = list(notification_ids)
    size = max(1, int(settings.DISPATCHER["BATCH_SIZE"]))
    sent = 0
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        try:
            celery_app.send_task(
                DELIVER_TASK, args=[chunk[0] if len(chunk) == 1 else chunk], countdown=countdown, queue=lane
            )
        except Exception as exc:  # noqa: BLE001 - kombu raises many kinds; all mean "not queued now"
            log.warning(
                "enqueue_failed_will_sweep",
                notifications=chunk,
                error=str(exc) or type(exc).__name__,
                hint="saved; the beat sweep sends them once Redis and a worker are up",
            )
            break
        sent += len(chunk)
    return sent


def bulk_resends_enqueue(job_ids: Iterable[int]) -> int:
    """Enqueue bulk resend jobs; like deliveries, a lost message is found again by the sweep."""
    sent = 0
    for job_id in job_ids:
        try:
            celery_app.send_task(BULK_RESEND_TASK, args=[job_id])
        except Exception as exc:  # noqa: BLE001
            log.warning("enqueue_failed_will_sweep", bulk_resend=job_id, error=str(exc) or type(exc).__name__)
            break
        sent += 1
    return sent
