"""Prometheus metrics and worker heartbeats.

Attempts happen in worker processes on many machines; the web app serves ``/metrics``. So workers add their
counts to a Redis hash (buffered, one pipelined round trip a second) and the web app's collector turns that hash,
plus a few database and queue gauges, into Prometheus metrics at scrape time. A Redis restart resets the
counters, which Prometheus treats as any counter reset. Workers also write a heartbeat every few seconds,
which ``/health`` and ``hotmart_dispatcher_worker_last_seen_seconds`` read.
"""

from __future__ import annotations

import atexit
import socket
import threading
import time
from collections.abc import Iterator

import redis
import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from core.queues import QUEUES
from core.redis import redis_client

log = structlog.get_logger(__name__)

COUNTERS = "dispatcher:metrics:counters"
LATENCY = "dispatcher:metrics:latency"  # histogram of event saved -> delivered, seconds
DURATION = "dispatcher:metrics:duration"  # histogram of one POST, seconds
HEARTBEATS = "dispatcher:workers"
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400)
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
HEARTBEAT_EVERY = 5.0


def _bucket(value: float, buckets: tuple[float, ...]) -> str:
    for bound in buckets:
        if value <= bound:
            return str(bound)
    return "+Inf"


def http_class(status_code: int) -> str:
    return "none" if status_code < 100 else f"{status_code // 100}xx"


class _Buffer:
    """Counts kept in the process and written to Redis once a second by a daemon thread: a delivery costs
    no Redis round trip for its metrics. A process killed loses at most its last second of counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], float] = {}
        self._thread: threading.Thread | None = None

    def add(self, key: str, field: str, amount: float = 1) -> None:
        with self._lock:
            self._counts[(key, field)] = self._counts.get((key, field), 0) + amount
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="dispatcher-metrics", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, {}
        if not counts:
            return
        try:
            pipe = redis_client().pipeline(transaction=False)
            for (key, field), amount in counts.items():
                if float(amount).is_integer():
                    pipe.hincrby(key, field, int(amount))
                else:
                    pipe.hincrbyfloat(key, field, amount)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("metrics_unavailable", error=str(exc))

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_EVERY)  # a periodic flush: there is nothing to wait for but time
            self.flush()


FLUSH_EVERY = 1.0
_buffer = _Buffer()
atexit.register(_buffer.flush)


def record_attempt(*, outcome: str, status_code: int, duration: float, latency: float | None) -> None:
    """Count one attempt (and, for a first delivery, its latency). Never fails the delivery."""
    _buffer.add(COUNTERS, f"attempts|{outcome}|{http_class(status_code)}")
    _buffer.add(DURATION, _bucket(duration, DURATION_BUCKETS))
    _buffer.add(DURATION, "sum", duration)
    if latency is not None:
        _buffer.add(LATENCY, _bucket(latency, LATENCY_BUCKETS))
        _buffer.add(LATENCY, "sum", latency)


def record_task(*, task: str, state: str) -> None:
    _buffer.add(COUNTERS, f"tasks|{task}|{state}")


def flush() -> None:
    """Write the counts kept so far now (tests, and a process about to exit)."""
    _buffer.flush()


def heartbeat(name: str) -> None:
    try:
        redis_client().hset(HEARTBEATS, name, time.time())
    except redis.RedisError as exc:
        log.warning("heartbeat_failed", error=str(exc))


def start_heartbeat(name: str | None = None) -> threading.Thread:
    """A daemon thread writing this worker's heartbeat every few seconds while the process lives."""
    name = name or socket.gethostname()

    def beat() -> None:
        while True:
            heartbeat(name)
            time.sleep(HEARTBEAT_EVERY)  # a periodic beat: there is nothing to wait for but time

    thread = threading.Thread(target=beat, name="dispatcher-heartbeat", daemon=True)
    thread.start()
    return thread


def workers_last_seen() -> dict[str, float]:
    """Seconds since each worker's last heartbeat."""
    now = time.time()
    return {name.decode(): now - float(seen) for name, seen in redis_client().hgetall(HEARTBEATS).items()}


def _histogram(name: str, documentation: str, key: str, buckets: tuple[float, ...], raw: dict) -> HistogramMetricFamily:
    counts = {k.decode(): float(v) for k, v in raw.items()}
    cumulative, running = [], 0.0
    for bound in (*[str(b) for b in buckets], "+Inf"):
        running += counts.get(bound, 0.0)
        cumulative.append((bound, running))
    return HistogramMetricFamily(name, documentation, buckets=cumulative, sum_value=counts.get("sum", 0.0))


class DispatcherCollector(Collector):
    """Metrics computed at scrape time from Redis (counters, queues, heartbeats) and the database (backlog,
    configurations). Each source that does not answer is reported as down (``hotmart_dispatcher_redis_up 0``,
    ``hotmart_dispatcher_database_up 0``) and its metrics left out: the scrape still answers with the others,
    so an outage of Redis is seen, and the backlog it causes too."""

    def collect(self) -> Iterator:
        yield from _source("redis", "Redis", _redis_metrics)
        yield from _source("database", "the database", _database_metrics)


def _source(name: str, label: str, build) -> Iterator:
    from django.db import DatabaseError

    up = GaugeMetricFamily(
        f"hotmart_dispatcher_{name}_up", f"1 when {label} answered this scrape; 0 and its metrics are left out."
    )
    try:
        families = list(build())
    except (redis.RedisError, DatabaseError) as exc:
        log.warning("metrics_source_down", source=name, error=str(exc) or type(exc).__name__)
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    yield up
    yield from families


def _redis_metrics() -> Iterator:
    r = redis_client()
    counters = {k.decode(): int(v) for k, v in r.hgetall(COUNTERS).items()}
    attempts = CounterMetricFamily(
        "hotmart_dispatcher_attempts",
        "POSTs made, by outcome and HTTP status class.",
        labels=["outcome", "http_class"],
    )
    tasks = CounterMetricFamily("hotmart_dispatcher_celery_tasks", "Celery tasks run.", labels=["task", "state"])
    for key, value in counters.items():
        kind, first, second = key.split("|")
        (attempts if kind == "attempts" else tasks).add_metric([first, second], value)
    yield attempts
    yield tasks
    yield _histogram(
        "hotmart_dispatcher_delivery_latency_seconds",
        "From the notification saved to its first 2xx.",
        LATENCY,
        LATENCY_BUCKETS,
        r.hgetall(LATENCY),
    )
    yield _histogram(
        "hotmart_dispatcher_attempt_duration_seconds",
        "Duration of one POST.",
        DURATION,
        DURATION_BUCKETS,
        r.hgetall(DURATION),
    )
    queue = GaugeMetricFamily(
        "hotmart_dispatcher_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
    )
    for name in QUEUES:
        queue.add_metric([name], r.llen(name))
    yield queue
    seen = GaugeMetricFamily(
        "hotmart_dispatcher_worker_last_seen_seconds", "Seconds since a worker's last heartbeat.", labels=["worker"]
    )
    for worker, seconds in workers_last_seen().items():
        seen.add_metric([worker], seconds)
    yield seen


def _database_metrics() -> Iterator:
    from django.db.models import Min
    from django.utils import timezone

    from configurations.models import Configuration
    from history.choices import OPEN_STATUSES
    from history.models import Notification

    created = CounterMetricFamily(
        "hotmart_dispatcher_notifications_created", "Notifications created (the highest id ever given)."
    )
    created.add_metric([], Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0)
    yield created
    now = timezone.now()
    due = Notification.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=now)
    backlog = GaugeMetricFamily("hotmart_dispatcher_due_notifications", "Open notifications due now.")
    backlog.add_metric([], due.count())
    yield backlog
    oldest = due.aggregate(oldest=Min("next_attempt_at"))["oldest"]
    age = GaugeMetricFamily(
        "hotmart_dispatcher_oldest_due_age_seconds", "How long the oldest due notification has been waiting."
    )
    age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
    yield age
    configurations = GaugeMetricFamily(
        "hotmart_dispatcher_configurations", "Configurations by status.", labels=["status"]
    )
    for status in Configuration.Status.values:
        configurations.add_metric([status], Configuration.objects.filter(status=status).count())
    failing = Configuration.objects.filter(status=Configuration.Status.ACTIVE, failing_since__isnull=False).count()
    configurations.add_metric(["failing"], failing)
    yield configurations
