"""Faults injected into real processes: a worker killed mid-POST, Redis down, restarted or flushed, the
database away for a while, two workers sharing duplicated messages. Nothing is lost; nothing is sent twice
at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.db import connection
from werkzeug import Response

from configurations.services import configuration_create
from history.choices import ErrorKind, NotificationStatus
from history.models import Notification
from sandbox.embedded_redis import EmbeddedRedis
from tests.conftest import ROOT, Stack, _test_database_url, wait_until
from tests.engine.test_delivery import extra_doorbells, final, requests_to, simulate

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class BlockingReceiver:
    """A handler that holds its first request open until released; later requests get 200 at once."""

    def __init__(self):
        self.release = threading.Event()
        self.seen: list[dict] = []

    def __call__(self, request):
        self.seen.append({"headers": dict(request.headers), "body": request.get_data()})
        if len(self.seen) == 1:
            self.release.wait(timeout=60)
        return Response("ok", status=200)


@pytest.fixture
def private_redis():
    """A Redis of this test's own, which it may stop and start (CI's shared Redis must stay up)."""
    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="hwds-fault-")) / "redis.sock").start()
    yield server
    server.stop()


@contextmanager
def alone(stack: Stack, running: Stack):
    """``running`` is the only stack at work: the session's would take the same rows from the database."""
    stack.stop()
    running.start()
    try:
        yield running
    finally:
        running.stop()
        stack.start()


@pytest.fixture
def private_stack(stack, private_redis, tmp_path):
    with alone(stack, Stack(tmp_path, redis_url=private_redis.url, DISPATCHER_RETRY_SCHEDULE="2,2,2,2")) as running:
        yield running


def cli_simulate(owner, redis_url: str) -> int:
    """`manage.py simulate` in its own process, as a user would run it, against ``redis_url``."""
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": redis_url}
    result = subprocess.run(
        [sys.executable, "manage.py", "simulate", "PURCHASE_APPROVED", "--owner", owner.username, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [notification_id] = json.loads(result.stdout)["notifications"]
    return notification_id


def test_a_worker_killed_mid_post_leaves_an_interrupted_attempt_and_the_next_one_goes_out(
    stack, httpserver, producer, product
):
    receiver = KillingReceiver(stack.worker, kills=1)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))

    notification = simulate(producer, product)
    wait_until(lambda: receiver.seen, message="the worker to be in the middle of the POST")
    wait_until(lambda: stack.worker.process.poll() is not None, message="the worker to die mid-POST")
    stack.worker.stop()
    stack.start_worker()

    done = final(notification, timeout=60)
    assert done.status == NotificationStatus.DELIVERED
    attempts = list(done.attempts.all())
    assert [(a.number, a.response_status, a.error_kind) for a in attempts] == [
        (1, -1, ErrorKind.INTERRUPTED),
        (2, 200, ErrorKind.NONE),
    ], "the killed attempt is in the history, as interrupted with its outcome unknown"
    assert "may or may not have reached" in attempts[0].error_message
    assert done.attempt_count == 2 and done.automatic_attempt_count == 2
    assert len(receiver.seen) == 2, "the receiver saw the killed attempt and the next one"
    first, second = receiver.seen
    assert (first["headers"]["X-Dispatcher-Attempt"], second["headers"]["X-Dispatcher-Attempt"]) == ("1", "2")
    for header in ("X-Dispatcher-Delivery-Id", "X-Dispatcher-Event-Id"):
        assert first["headers"][header] == second["headers"][header]
    assert first["body"] == second["body"]


class KillingReceiver:
    """For its first ``kills`` requests, kills the worker that is POSTing while the POST waits for its answer
    (so the worker dies mid-POST whatever its timeouts); answers 200 to the others."""

    def __init__(self, worker, kills: int = 1):
        self.worker = worker
        self.kills = kills
        self.seen: list[dict] = []

    def __call__(self, request):
        self.seen.append({"headers": dict(request.headers), "body": request.get_data()})
        if len(self.seen) <= self.kills:
            process = self.worker.process
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        return Response("ok", status=200)


def test_a_worker_dying_at_every_attempt_cannot_make_a_notification_go_out_more_than_its_attempts(
    stack, private_redis, tmp_path, httpserver, producer, product
):
    """However often the attempt is lost before it is recorded, each one counts: the 3-attempt limit holds."""
    running = Stack(tmp_path, redis_url=private_redis.url, DISPATCHER_MAX_ATTEMPTS="3", DISPATCHER_LEASE_MARGIN="0.5")
    receiver = KillingReceiver(running.worker, kills=3)
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))
    with alone(stack, running):
        notification_id = cli_simulate(producer, private_redis.url)
        for attempt in (1, 2, 3):
            wait_until(lambda n=attempt: len(receiver.seen) >= n, timeout=60, message=f"POST number {attempt}")
            wait_until(lambda: running.worker.process.poll() is not None, message="the worker to die mid-POST")
            running.worker.stop()
            # A new worker takes over once the lease runs out (it may POST, and die, before it answers a ping).
            running.worker.start()
        done = final(Notification.objects.get(pk=notification_id), timeout=60)

    assert done.status == NotificationStatus.FAILED
    assert [(a.number, a.error_kind) for a in done.attempts.all()] == [(n, ErrorKind.INTERRUPTED) for n in (1, 2, 3)]
    assert [seen["headers"]["X-Dispatcher-Attempt"] for seen in receiver.seen] == ["1", "2", "3"]
    assert "interrupted; no attempts left" in done.status_reason


def test_events_recorded_while_redis_is_down_go_out_when_it_returns(
    private_stack, private_redis, httpserver, producer, product
):
    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))

    private_redis.stop()
    notification_id = cli_simulate(producer, private_redis.url)
    saved = Notification.objects.get(pk=notification_id)
    assert saved.status == NotificationStatus.PENDING and saved.event_id
    assert requests_to(httpserver, "/hook") == []
    private_redis.start()

    done = final(saved, timeout=60)
    assert done.status == NotificationStatus.DELIVERED
    assert len(requests_to(httpserver, "/hook")) == 1


@pytest.mark.parametrize("fault", ["restart", "flush"])
def test_retries_scheduled_survive_a_redis_restart_or_flush(
    fault, private_stack, private_redis, httpserver, producer, product
):
    httpserver.expect_ordered_request("/hook").respond_with_data("busy", status=500)
    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))

    notification_id = cli_simulate(producer, private_redis.url)
    retrying = wait_until(
        lambda: Notification.objects.filter(pk=notification_id, status=NotificationStatus.RETRYING).first(),
        message="the first attempt to fail and a retry to be scheduled",
    )
    if fault == "restart":
        private_redis.stop()
        private_redis.start()
    else:
        redis.Redis.from_url(private_redis.url).flushall()

    done = final(retrying, timeout=60)
    assert done.status == NotificationStatus.DELIVERED
    assert [a.response_status for a in done.attempts.all()] == [500, 200]


def test_the_database_away_during_a_delivery_loses_no_attempt_and_counts_none_twice(
    stack, httpserver, producer, product
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL to make the database refuse connections (CI runs it)")
    import psycopg

    receiver = BlockingReceiver()
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))
    notification = simulate(producer, product)
    wait_until(lambda: receiver.seen, message="the worker to be in the middle of the POST")

    s = connection.settings_dict
    database = s["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [test_pid] = cursor.fetchone()
    admin = psycopg.connect(
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        user=s["USER"],
        password=s["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    log = stack.worker.log_path
    log_size = log.stat().st_size
    try:
        admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
            (database, test_pid),
        )
        receiver.release.set()  # the POST succeeds now, while the database is away
        wait_until(
            lambda: "database_unavailable_retrying" in log.read_text(errors="replace")[log_size:],
            message="the worker to find the database away when saving the attempt",
        )
    finally:
        admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')
        admin.close()

    done = final(notification, timeout=60)
    assert done.status == NotificationStatus.DELIVERED
    assert done.attempt_count == 1
    assert [(a.number, a.response_status) for a in done.attempts.all()] == [(1, 200)]
    assert len(receiver.seen) == 1


def test_two_workers_and_duplicated_messages_send_each_attempt_once(stack, httpserver, producer, product):
    receiver = BlockingReceiver()
    httpserver.expect_request("/hook").respond_with_handler(receiver)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))
    second = stack.new_worker("second")
    stack.start_worker(second)
    try:
        notification = simulate(producer, product)
        # six more doorbells for the same lane, shared by the two workers
        extra_doorbells(6)
        wait_until(lambda: receiver.seen, message="the first POST")
        # every duplicate is picked up by one of the two workers while the first POST is held open
        wait_until(
            lambda: redis.Redis.from_url(stack.redis_url).llen("deliveries") == 0,
            message="both workers to take every duplicate",
        )
        receiver.release.set()
        done = final(notification)
    finally:
        second.stop()

    assert done.status == NotificationStatus.DELIVERED and done.attempt_count == 1
    assert len(receiver.seen) == 1
