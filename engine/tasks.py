"""Celery tasks of the engine: thin; each calls one function."""

from celery import shared_task

from engine import sweep as sweeps
from engine.loop import running_engine
from history import lanes


@shared_task(name="engine.doorbell", acks_late=False)
def doorbell(lane: str | None = None) -> str:
    """A lane has due work: this worker's engine claims it (the rows are the truth; the message only wakes)."""
    lane = lane or (doorbell.request.delivery_info or {}).get("routing_key") or lanes.DELIVERIES
    lanes.answered(lane)
    running_engine().ring(lane, task_id=doorbell.request.id or "")
    return lane


@shared_task(name="dispatcher.deliver", acks_late=False)
def deliver_queued_by_an_earlier_version(*_ids) -> str:
    """A message queued by a version that put ids on the queue: it rings its lane's doorbell instead."""
    lane = (deliver_queued_by_an_earlier_version.request.delivery_info or {}).get("routing_key")
    running_engine().ring(lane or lanes.DELIVERIES)
    return lane or lanes.DELIVERIES


@shared_task(name="engine.sweep")
def sweep() -> int:
    return len(sweeps.notifications_sweep())


@shared_task(name="engine.purge_history")
def purge_history() -> int:
    return sweeps.history_purge_old()


@shared_task(name="engine.bulk_resend")
def bulk_resend(job_id: int) -> int:
    return sweeps.bulk_resend_run(job_id=job_id)
