"""The Celery app: ``celery -A dispatcher worker`` and ``celery -A dispatcher beat``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatcher.settings")

app = Celery("dispatcher")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["dispatcher", "inbox"])


@app.on_after_finalize.connect
def _schedule_periodic_tasks(sender, **_kwargs):
    from dispatcher.conf import dispatcher_settings

    conf = dispatcher_settings()
    sender.add_periodic_task(conf.sweep_interval, sender.signature("dispatcher.sweep"), name="sweep due notifications")
    sender.add_periodic_task(3600.0, sender.signature("dispatcher.purge_history"), name="purge old history")
    sender.add_periodic_task(600.0, sender.signature("inbox.purge"), name="purge expired inbox requests")
