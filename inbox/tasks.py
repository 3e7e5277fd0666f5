"""Celery tasks of the inbox: thin, each calls one service."""

from celery import shared_task

from inbox import services


@shared_task(name="inbox.purge")
def purge() -> int:
    return services.inbox_requests_purge_expired()
