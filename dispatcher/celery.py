"""The Celery app: ``celery -A dispatcher worker`` and ``celery -A dispatcher beat``."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatcher.settings")

app = Celery("dispatcher")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The current app of every thread: history.lanes and the receiver checks send their tasks through
# ``celery.current_app``, so that nothing below the project package imports it.
app.set_default()
# Celery's Django fixup closes every database connection before and after every task unless this is set:
# a new PostgreSQL connection (a forked backend) per task. Workers keep their connections instead; one that
# broke (a database restart) is closed and opened again by the engine's retries (engine.batches.db_retrying).
app.conf.update(CELERY_DB_REUSE_MAX=10**9)
app.autodiscover_tasks(["configurations", "engine", "inbox", "receiver_checks"])


@app.on_after_finalize.connect
def _schedule_periodic_tasks(sender, **_kwargs):
    from engine.conf import dispatcher_settings

    conf = dispatcher_settings()
    sender.add_periodic_task(conf.sweep_interval, sender.signature("engine.sweep"), name="ring lanes with due work")
    sender.add_periodic_task(3600.0, sender.signature("engine.purge_history"), name="purge old history")
    sender.add_periodic_task(
        3600.0, sender.signature("dispatcher.clear_expired_tokens"), name="delete expired API access tokens"
    )

    sender.add_periodic_task(600.0, sender.signature("inbox.purge"), name="purge expired inbox requests")


@signals.worker_ready.connect
def _start_heartbeat(sender=None, **_kwargs):
    from dispatcher.metrics import start_heartbeat

    start_heartbeat(getattr(sender, "hostname", None))


@signals.task_success.connect
def _count_success(sender=None, **_kwargs):
    from dispatcher.metrics import record_task

    record_task(task=sender.name, state="success")


@signals.task_failure.connect
def _count_failure(sender=None, **_kwargs):
    from dispatcher.metrics import record_task

    record_task(task=sender.name, state="failure")


@signals.worker_shutting_down.connect
def _stop_engine(**_kwargs):
    """A warm shutdown lets the POSTs in flight end and saves them (a killed worker's are taken over)."""
    from engine.loop import stop_running_engine

    stop_running_engine()


@signals.worker_process_shutdown.connect
def _stop_engine_in_child(**_kwargs):
    from engine.loop import stop_running_engine

    stop_running_engine()


@signals.worker_init.connect
def _refuse_bad_settings(**_kwargs):
    from dispatcher.checks import enforce_startup_checks

    enforce_startup_checks()


@signals.beat_init.connect
def _refuse_bad_settings_in_beat(**_kwargs):
    from dispatcher.checks import enforce_startup_checks

    enforce_startup_checks()
