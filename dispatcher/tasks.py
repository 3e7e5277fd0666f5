"""Celery tasks: thin and idempotent; each receives ids and calls one service."""

from celery import shared_task

from configurations.services import api_tokens_clear_expired
from dispatcher import delivery


@shared_task(name="dispatcher.deliver")
def deliver(notification_ids: int | list[int]) -> str:
    """One notification id, or a list of them (a fan-out, a sweep): each gets its next attempt."""
    lane = (deliver.request.delivery_info or {}).get("routing_key")
    task_id = deliver.request.id or ""
    if isinstance(notification_ids, int):
        return delivery.notification_deliver(notification_id=notification_ids, task_id=task_id, lane=lane)
    return delivery.notifications_deliver(notification_ids=notification_ids, task_id=task_id, lane=lane)


@shared_task(name="dispatcher.sweep")
def sweep() -> int:
    return delivery.notifications_sweep()


@shared_task(name="dispatcher.purge_history")
def purge_history() -> int:
    return delivery.history_purge_old()


@shared_task(name="dispatcher.clear_expired_tokens")
def clear_expired_tokens() -> int:
    return api_tokens_clear_expired()


@shared_task(name="dispatcher.bulk_resend")
def bulk_resend(job_id: int) -> int:
    return delivery.bulk_resend_run(job_id=job_id)
