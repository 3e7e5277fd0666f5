"""/health and /metrics against the real worker, Redis and database."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from django.test import override_settings

from configurations.services import configuration_create
from dispatcher import metrics
from sandbox.embedded_redis import EmbeddedRedis
from tests.conftest import wait_until
from tests.engine.test_delivery import final, simulate

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def other_redis():
    """A Redis no worker uses, so /health sees no heartbeat."""
    server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="hwds-health-")) / "redis.sock").start()
    metrics.redis_client.cache_clear()
    with override_settings(REDIS_URL=server.url):
        yield server
    metrics.redis_client.cache_clear()
    server.stop()


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample of the Prometheus text format, labels in any order."""
    for line in text.splitlines():
        match = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if found == {k: str(v) for k, v in labels.items()}:
            return float(match.group(3))
    raise AssertionError(f"{name} {labels} not in metrics")


@pytest.mark.integration
def test_health_is_ok_with_a_live_worker(stack, client):
    wait_until(lambda: client.get("/health").status_code == 200, message="a worker heartbeat")
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
    assert body["checks"]["worker"].startswith("ok")


def test_health_is_503_without_a_worker(other_redis, client):
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == "error: no worker has ever reported"


def test_health_is_503_without_redis(other_redis, client):
    other_redis.stop()
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error")


@pytest.mark.integration
def test_metrics_count_attempts_latency_and_backlog(stack, client, httpserver, producer, product):
    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))
    before = client.get("/metrics").content.decode()
    try:
        delivered_before = sample(before, "hotmart_dispatcher_attempts_total", outcome="delivered", http_class="2xx")
    except AssertionError:
        delivered_before = 0

    final(simulate(producer, product))

    def counted() -> str | None:  # workers write their counts once a second
        text = client.get("/metrics").content.decode()
        try:
            attempts = sample(text, "hotmart_dispatcher_attempts_total", outcome="delivered", http_class="2xx")
        except AssertionError:
            return None
        # At least: an earlier test's attempts, counted before `before` was read but written after it, may
        # arrive in the same flush (the worker is shared).
        return text if attempts >= delivered_before + 1 else None

    text = wait_until(counted, message="the worker's counts to reach /metrics")
    assert sample(text, "hotmart_dispatcher_delivery_latency_seconds_count") >= 1
    assert sample(text, "hotmart_dispatcher_attempt_duration_seconds_count") >= 1
    assert sample(text, "hotmart_dispatcher_queue_length", queue="deliveries") >= 0
    assert sample(text, "hotmart_dispatcher_due_notifications") == 0
    assert sample(text, "hotmart_dispatcher_configurations", status="active") == 1
    assert sample(text, "hotmart_dispatcher_notifications_created_total") >= 1
    assert sample(text, "hotmart_dispatcher_celery_tasks_total", task="engine.doorbell", state="success") >= 1
    assert "hotmart_dispatcher_worker_last_seen_seconds{worker=" in text


def test_metrics_can_require_a_token(client):
    with override_settings(METRICS_TOKEN="s3cret-metrics-token"):
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token").status_code == 200


def test_live_only_needs_the_process_and_its_database(other_redis, client):
    other_redis.stop()
    assert client.get("/health/live").json() == {"status": "ok"}


def test_metrics_answer_while_redis_is_down_saying_so(other_redis, live_server, producer):
    """A real scrape of /metrics with Redis stopped: Prometheus text, Redis reported down, and the database's
    metrics (the backlog a Redis outage builds up) still there; never an HTML error page."""
    import requests

    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url="http://127.0.0.1:9/x")
    up = requests.get(f"{live_server.url}/metrics", timeout=30)
    assert up.status_code == 200 and sample(up.text, "hotmart_dispatcher_redis_up") == 1
    other_redis.stop()

    down = requests.get(f"{live_server.url}/metrics", timeout=30)

    assert down.status_code == 200 and down.headers["Content-Type"].startswith("text/plain")
    assert sample(down.text, "hotmart_dispatcher_redis_up") == 0
    assert sample(down.text, "hotmart_dispatcher_database_up") == 1
    assert sample(down.text, "hotmart_dispatcher_configurations", status="active") == 1
    assert "hotmart_dispatcher_queue_length" not in down.text, "what Redis holds is left out, not made up"
