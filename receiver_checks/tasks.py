"""The receiver check's task: thin and idempotent; it receives a check's id and calls one service."""

from celery import shared_task

from receiver_checks import services


@shared_task(name=services.RUN_TASK)
def run(check_id: int) -> str:
    """Run a queued receiver check (on the maintenance queue, never the delivery lanes)."""
    return services.receiver_check_run(check_id=check_id, task_id=run.request.id or "")
