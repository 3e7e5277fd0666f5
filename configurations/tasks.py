"""Celery tasks of the configurations: thin. (The task keeps the name it was scheduled by in earlier versions.)"""

from celery import shared_task

from configurations.services import api_tokens_clear_expired


@shared_task(name="dispatcher.clear_expired_tokens")
def clear_expired_tokens() -> int:
    return api_tokens_clear_expired()
