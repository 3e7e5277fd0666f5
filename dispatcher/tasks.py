"""Celery tasks: thin and idempotent; each receives ids and calls one service."""

from celery import shared_task

from configurations.services import api_tokens_clear_expired
from dispatcher import delivery


@shared_task(name="dispatcher.deliver")
def deliver(notification_id: int) -> str:
    lane = (deliver.request.delivery_info or {}).get("routing_key")
    return delivery.notification_deliver(notification_id=notification_id, task_id=deliver.request.id or "", lane=lane)


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
