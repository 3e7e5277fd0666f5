"""The Django project package and the delivery engine."""

from dispatcher.celery import app as celery_app

__all__ = ["celery_app"]
