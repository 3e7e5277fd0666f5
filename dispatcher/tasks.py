"""Celery tasks of the API: thin; the delivery engine's are in engine/tasks.py."""

from celery import shared_task

from configurations.services import api_tokens_clear_expired


@shared_task(name="dispatcher.clear_expired_tokens")
def clear_expired_tokens() -> int:
    return api_tokens_clear_expired()
