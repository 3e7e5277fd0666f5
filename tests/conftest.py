"""Shared fixtures: producers, and the real delivery stack for integration tests.

The integration stack is a real Celery worker and a real Celery beat, each its own process, on the test
database and the test Redis (``REDIS_URL``, or the embedded one from tests/plugin.py), with fast retry
settings. Receivers are real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from pytest_httpserver import HTTPServer

from configurations import services as configuration_services
from tests.factories import ConfigurationFactory, ProductFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent

# Settings of the worker and beat processes in the integration tests: the real rules, faster.
STACK_SETTINGS = {
    "DISPATCHER_MODE": "sandbox",
    "DISPATCHER_RETRY_SCHEDULE": "0.3,0.3,0.3,0.3",
    "DISPATCHER_RETRY_JITTER": "0",
    "DISPATCHER_CONNECT_TIMEOUT": "2",
    "DISPATCHER_READ_TIMEOUT": "1",
    "DISPATCHER_TOTAL_TIMEOUT": "3",
    "DISPATCHER_SWEEP_INTERVAL": "0.5",
    "DISPATCHER_STUCK_GRACE": "2",
    # A claim outlives the longest POST (connect 2 s + total 3 s) by 2 s: a killed worker's notification is
    # taken over after 7 s instead of 35.
    "DISPATCHER_LEASE_MARGIN": "2",
}


def wait_until(predicate: Callable[[], object], *, timeout: float = 20.0, message: str = "condition") -> object:
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(0.05)


def free_port() -> int:
    """A port nothing listens on right now: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_producer():
    """A user with its webhook account (hottok), as a producer has."""
    user = UserFactory()
    configuration_services.account_get_or_create(user=user)
    return user


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counters live in the shared Redis: each test starts with none (only those keys are touched)."""
    import redis as redis_client

    yield
    broker = redis_client.Redis.from_url(settings.REDIS_URL)
    for key in broker.scan_iter(match="*oauth-token-failures*"):
        broker.delete(key)


@pytest.fixture
def producer(db):
    return new_producer()


@pytest.fixture
def product(producer):
    return ProductFactory(owner=producer)


# --- Pages ------------------------------------------------------------------------------------------------


@pytest.fixture
def client_for(db):
    """A logged-in browser (Django's test client) for a user."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def web(client_for, producer):
    """The producer's logged-in browser."""
    return client_for(producer)


@pytest.fixture
def stranger(db):
    """Another producer."""
    return new_producer()


@pytest.fixture
def configuration(producer):
    return ConfigurationFactory(owner=producer, name="Receiver", events=["PURCHASE_APPROVED", "PURCHASE_REFUNDED"])


@pytest.fixture
def demo(db):
    """The demo producer of `seed_demo` without its inbox configuration, so a test counts only the
    notifications it makes itself."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from configurations.models import Configuration

    call_command("seed_demo", stdout=StringIO())
    user = get_user_model().objects.get(username="demo")
    Configuration.objects.filter(owner=user, name="Demo inbox").delete()
    return user


# --- The real stack ---------------------------------------------------------------------------------------


def _test_database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    credentials = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        credentials += ":" + quote(s["PASSWORD"], safe="")
    host = s["HOST"] or "localhost"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{quote(s['NAME'], safe='')}"


class CeleryProcess:
    """A ``celery -A dispatcher <role>`` child process with its output in a log file."""

    def __init__(self, role: str, args: list[str], env: dict[str, str], log_path: Path):
        self.role, self.args, self.env, self.log_path = role, args, env, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed when the process ends
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "dispatcher", self.role, *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Stack:
    """A Celery worker and Celery beat running the dispatcher against the test database."""

    def __init__(self, tmp: Path, redis_url: str | None = None, **overrides: str):
        self.tmp = tmp
        self.redis_url = redis_url or settings.REDIS_URL
        self.env = {
            **os.environ,
            **STACK_SETTINGS,
            **overrides,
            "DATABASE_URL": _test_database_url(),
            "REDIS_URL": self.redis_url,
            "DJANGO_SETTINGS_MODULE": "dispatcher.settings",
            "PYTHONUNBUFFERED": "1",
        }
        self.worker = self.new_worker("worker")
        self.beat = CeleryProcess("beat", ["-l", "INFO", "-s", str(tmp / "beat-schedule")], self.env, tmp / "beat.log")

    def new_worker(
        self,
        name: str,
        queues: str = "deliveries,retries,maintenance",
        concurrency: int = 8,
        env: dict[str, str] | None = None,
    ) -> CeleryProcess:
        node = f"{name}-{os.getpid()}"
        args = ["--pool", "threads", "--concurrency", str(concurrency), "-Q", queues, "-n", f"{node}@%h"]
        args += ["--without-gossip", "--without-mingle", "-l", "INFO"]
        worker = CeleryProcess("worker", args, {**self.env, **(env or {})}, self.tmp / f"{name}.log")
        worker.node = node
        return worker

    def start_worker(self, worker: CeleryProcess | None = None) -> None:
        worker = worker or self.worker
        worker.start()
        wait_until(
            lambda: worker.process.poll() is not None or self._answers_ping(worker),
            timeout=30,
            message="the Celery worker to answer a ping",
        )
        if worker.process.poll() is not None:
            raise AssertionError("worker did not start:\n" + worker.log_tail())

    def _answers_ping(self, worker: CeleryProcess) -> bool:
        from celery import Celery

        from dispatcher.settings import kombu_url

        # Not the current app: the code under test sends its tasks through ``celery.current_app``.
        with Celery(broker=kombu_url(self.redis_url), set_as_current=False) as app:
            replies = app.control.ping(timeout=0.3)
        return any(node.startswith(worker.node + "@") for reply in replies for node in reply)

    def start(self) -> None:
        self.start_worker()
        self.beat.start()

    def stop(self) -> None:
        self.beat.stop()
        self.worker.stop()


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """The real worker and beat, started once for the whole session."""
    with django_db_blocker.unblock():
        running = Stack(tmp_path_factory.mktemp("stack"))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def make_httpserver():
    """pytest-httpserver's receiver, threaded, so a slow answer does not hold up the others."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()
