"""The engine's periodic work, run by Celery beat: ring the lanes that have work, record attempts nobody will
take over, resume stalled bulk resends; purge old history; run a bulk resend job."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from django.db import transaction
from django.utils import timezone

from engine.conf import dispatcher_settings
from history import claims, lanes
from history import selectors as history_selectors
from history import services as history_services
from history.choices import BulkResendStatus
from history.models import BulkResend

log = structlog.get_logger(__name__)


def notifications_sweep(*, now: datetime | None = None) -> list[str]:
    """Ring the doorbell of every lane with a notification to send now, whatever became of earlier doorbells;
    answers the lanes rung. A lane whose doorbell is already waiting in its queue is not rung twice."""
    conf = dispatcher_settings()
    now = now or timezone.now()
    rung = lanes.ring(claims.lanes_with_work(lanes=lanes.all_lanes(), now=now))
    if rung:
        log.info("swept", rung=rung)
    closed = history_services.notifications_close_interrupted(now=now)
    if closed:
        log.warning("interrupted_attempts_recorded", notifications=closed)
    jobs = history_selectors.bulk_resends_stalled(now=now, grace_seconds=conf.stuck_grace)
    if jobs:
        history_services.bulk_resends_mark_enqueued(job_ids=jobs, at=now)
        lanes.bulk_resends_enqueue(jobs)
    return rung


def bulk_resend_run(*, job_id: int, batch_size: int = 500) -> int:
    """Work through a bulk resend job in batches, asking for one manual attempt of each notification.

    Each batch moves the job's cursor, so a job whose worker died resumes where it stopped (the sweep
    enqueues it again); asking twice for the same resend sends it once. Answers how many were requested.
    """
    job = (
        BulkResend.objects.filter(pk=job_id)
        .exclude(status=BulkResendStatus.DONE)
        .select_related("configuration")
        .first()
    )
    if job is None:
        return 0
    lane = lanes.lane_for(failing=job.configuration.failing_since is not None, owner_id=job.owner_id)
    requested = 0
    cursor = job.last_notification_id
    while True:
        ids = history_selectors.bulk_resend_candidates(job=job, after_id=cursor, limit=batch_size)
        if not ids:
            break
        now = timezone.now()
        with transaction.atomic():
            fresh = history_services.notifications_request_resend(notification_ids=ids, now=now, lane=lane)
            history_services.bulk_resend_advance(
                job_id=job.pk, last_notification_id=ids[-1], requested=len(fresh), now=now
            )
        if fresh:
            lanes.ring([lane])
        requested += len(fresh)
        cursor = ids[-1]
    history_services.bulk_resend_finish(job_id=job.pk, now=timezone.now())
    log.info("bulk_resend_done", job=job.pk, requested=requested)
    return requested


def history_purge_old(*, now: datetime | None = None) -> int:
    """Delete events, notifications and attempts older than the retention period."""
    conf = dispatcher_settings()
    before = (now or timezone.now()) - timedelta(days=conf.history_retention_days)
    deleted = history_services.history_purge(before=before, batch_size=conf.purge_batch)
    if deleted:
        log.info("history_purged", events=deleted, before=before.isoformat())
    return deleted
