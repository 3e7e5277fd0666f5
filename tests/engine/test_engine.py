"""The engine as a worker runs it: doorbells that never pile up, recipients that never wait for each other, a
handful of database connections whatever is in flight, and a stop that saves what was in flight."""

from __future__ import annotations

import contextlib
import os
import signal
import threading

import pytest
import redis
from django.conf import settings
from django.db import connection
from werkzeug import Response

from configurations.services import configuration_create
from engine.sweep import notifications_sweep
from history.choices import ErrorKind, NotificationStatus
from history.models import Attempt, Notification
from history.publishing import event_record
from tests.conftest import _test_database_url, wait_until
from tests.engine.test_delivery import extra_doorbells, final, simulate

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LONG_TIMEOUTS = {"DISPATCHER_READ_TIMEOUT": "60", "DISPATCHER_TOTAL_TIMEOUT": "60"}


class Held:
    """A receiver that holds every request until released, counting them."""

    def __init__(self):
        self.release = threading.Event()
        self.seen = 0
        self._lock = threading.Lock()

    def __call__(self, request):
        with self._lock:
            self.seen += 1
        self.release.wait(timeout=90)
        return Response("finally", status=200)


def test_doorbells_never_pile_up(stack, httpserver, producer, product):
    """While a lane's doorbell waits in its queue, neither new events nor the sweep ring it again."""
    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))
    broker = redis.Redis.from_url(settings.REDIS_URL)

    stack.stop()
    try:
        notifications = [simulate(producer, product) for _ in range(50)]
        for _ in range(5):
            notifications_sweep()
        assert broker.llen("deliveries") == 1, "one doorbell for 50 events and 5 sweeps"
    finally:
        stack.start()
    assert {final(n).status for n in notifications} == {NotificationStatus.DELIVERED}


def test_a_fast_receiver_never_waits_for_a_slow_one_in_the_same_events(stack, httpserver, producer, product):
    """Every event fans out to a receiver that answers at once and to one that holds every request: each fast
    notification is delivered while every slow one is still on its way."""
    held = Held()
    httpserver.expect_request("/fast").respond_with_data("ok", status=200)
    httpserver.expect_request("/slow").respond_with_handler(held)
    fast = configuration_create(
        owner=producer, name="fast", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/fast")
    )
    slow = configuration_create(
        owner=producer, name="slow", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/slow")
    )
    stack.worker.stop()
    worker = stack.new_worker("fan-out", env={**LONG_TIMEOUTS, "DISPATCHER_CONFIGURATION_CONCURRENCY": "8"})
    events = 40
    try:
        for _ in range(events):
            event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product)
        stack.start_worker(worker)
        wait_until(
            lambda: (
                Notification.objects.filter(configuration=fast, status=NotificationStatus.DELIVERED).count() == events
            ),
            timeout=30,
            message="every fast notification to be delivered",
        )
        slow_done = Attempt.objects.filter(notification__configuration=slow).count()
        slow_in_flight = held.seen
    finally:
        held.release.set()
        worker.stop()
        stack.start_worker()

    assert slow_done == 0, "no slow answer came: the fast ones waited for none of them"
    assert slow_in_flight == 8, "the slow receiver holds its share of the worker, no more"


def test_a_worker_holds_a_handful_of_database_connections_whatever_is_in_flight(stack, httpserver, producer, product):
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL connections (CI runs it)")
    held = Held()
    httpserver.expect_request("/hook").respond_with_handler(held)
    configuration = configuration_create(
        owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook")
    )
    stack.worker.stop()
    name = f"engine-{os.getpid()}"
    worker = stack.new_worker(
        "connections",
        concurrency=4,  # Celery's threads, as docker-compose.yml starts them: they run the sweep, the purge...
        env={
            **LONG_TIMEOUTS,
            "DISPATCHER_CONFIGURATION_CONCURRENCY": "200",
            "DATABASE_URL": f"{_test_database_url()}?application_name={name}",
        },
    )
    in_flight = 150
    try:
        for _ in range(in_flight):
            simulate(producer, product)
        stack.start_worker(worker)
        wait_until(lambda: held.seen == in_flight, timeout=60, message=f"{in_flight} POSTs in flight")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [name])
            [connections] = cursor.fetchone()
    finally:
        held.release.set()
        wait_until(
            lambda: Notification.objects.filter(configuration=configuration, status="delivered").count() == in_flight,
            timeout=60,
            message="the held POSTs to be answered and saved",
        )
        worker.stop()
        stack.start_worker()

    # the engine's 2 database threads, and at most one per Celery thread (periodic tasks)
    assert 1 <= connections <= 2 + 4, f"{connections} connections for {in_flight} POSTs in flight"


def test_a_worker_stopped_mid_post_lets_it_end_and_saves_it(stack, httpserver, producer, product):
    """SIGTERM (a deploy) while a POST waits for its answer: the answer is awaited and saved, no interrupted
    attempt, no second POST."""
    worker = stack.new_worker("stopping", env=LONG_TIMEOUTS)
    answered = threading.Event()

    def stop_the_worker_then_answer(_request):
        os.kill(worker.process.pid, signal.SIGTERM)  # the warm shutdown starts while this POST is in flight
        answered.wait(0.5)
        return Response("ok", status=200)

    httpserver.expect_request("/hook").respond_with_handler(stop_the_worker_then_answer)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))
    stack.worker.stop()
    try:
        notification = simulate(producer, product)
        worker.start()  # not waiting for its ping: it may be stopping already
        wait_until(lambda: worker.process.poll() is not None, timeout=60, message="the worker to stop by itself")
        done = Notification.objects.get(pk=notification.pk)
    finally:
        worker.stop()
        stack.start_worker()

    assert done.status == NotificationStatus.DELIVERED
    assert [(a.number, a.response_status, a.error_kind) for a in done.attempts.all()] == [(1, 200, ErrorKind.NONE)]
    assert len(httpserver.log) == 1


@contextlib.contextmanager
def share_of_two(stack, httpserver, producer, product, *, count: int, slow_after: str):
    """``count`` notifications to a held receiver whose configuration's share is 2 POSTs, delivered by a worker
    started once they are saved, with no beat; yields (the receiver, the notifications) once its share is in
    flight. The receiver answers when the block ends."""
    held = Held()
    httpserver.expect_request("/hook").respond_with_handler(held)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))
    stack.stop()
    env = {**LONG_TIMEOUTS, "DISPATCHER_CONFIGURATION_CONCURRENCY": "2", "DISPATCHER_SLOW_AFTER": slow_after}
    worker = stack.new_worker("share-of-two", env=env)
    try:
        notifications = [simulate(producer, product) for _ in range(count)]
        stack.start_worker(worker)
        wait_until(lambda: held.seen == 2, message="its share in flight")
        yield held, notifications
    finally:
        held.release.set()
        worker.stop()
        stack.start()


def test_a_backlog_larger_than_a_share_is_delivered_with_no_help_from_the_sweep(stack, httpserver, producer, product):
    """30 notifications to one configuration whose share is 2 POSTs, and no beat: each freed place claims the
    next. More doorbells ring while its share is taken (their claims find nothing it may take): the backlog
    still goes out once the receiver answers."""
    broker = redis.Redis.from_url(settings.REDIS_URL)
    # Never slow enough to be rerouted, however long this takes on a busy machine: the next test reroutes.
    with share_of_two(stack, httpserver, producer, product, count=30, slow_after="3600") as (held, notifications):
        extra_doorbells(3)
        wait_until(lambda: broker.llen("deliveries") == 0, message="the doorbells to be answered while it is full")
        held.release.set()
        done = [final(n, timeout=60) for n in notifications]
    assert {n.status for n in done} == {NotificationStatus.DELIVERED}
    assert held.seen == 30


def test_a_slow_receivers_backlog_moved_to_the_retries_lane_goes_out_with_no_help_from_the_sweep(
    stack, httpserver, producer, product
):
    """A receiver holding its whole share past SLOW_AFTER has its waiting notifications moved to the retries
    lane. That lane's workers hear of them at once (they waited for the beat's sweep, and with no beat forever)."""
    with share_of_two(stack, httpserver, producer, product, count=10, slow_after="0.5") as (held, notifications):
        wait_until(
            lambda: Notification.objects.filter(pk__in=[n.pk for n in notifications], lane="retries").count() >= 8,
            message="the waiting notifications to move to the retries lane",
        )
        held.release.set()
        done = [final(n, timeout=60) for n in notifications]
    assert {n.status for n in done} == {NotificationStatus.DELIVERED}
    assert held.seen == 10
