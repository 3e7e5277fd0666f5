"""End to end: a real Celery worker and beat POST to real HTTP receivers on 127.0.0.1.

The worker runs the real retry rules with a faster schedule (tests/conftest.py STACK_SETTINGS).
"""

from __future__ import annotations

import json
import time

import pytest
import redis
from django.conf import settings
from pytest_httpserver import HTTPServer
from werkzeug import Response

from configurations.models import Account, Configuration
from configurations.services import configuration_create
from history.choices import OPEN_STATUSES, NotificationStatus
from history.lanes import DOORBELL_TASK
from history.models import Notification
from history.publishing import event_record
from tests.conftest import free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def add_configuration(owner, url, events=("PURCHASE_APPROVED",), name="receiver"):
    return configuration_create(owner=owner, name=name, events=list(events), url=url)


def simulate(owner, product, event_type="PURCHASE_APPROVED"):
    notifications = event_record(owner=owner, event_type=event_type, product=product).notifications
    assert len(notifications) == 1
    return notifications[0]


def final(notification: Notification, timeout: float = 30) -> Notification:
    """Wait until the notification is delivered, failed or cancelled; answer it fresh from the database."""
    return wait_until(
        lambda: Notification.objects.exclude(status__in=OPEN_STATUSES).filter(pk=notification.pk).first(),
        timeout=timeout,
        message=f"notification {notification.pk} to reach a final status",
    )


def requests_to(server: HTTPServer, path: str) -> list:
    return [request for request, _response in server.log if request.path == path]


def extra_doorbells(count: int, lane: str = "deliveries") -> None:
    """Doorbell messages beyond what ringing sends (it sends one while one waits): duplicates, as a broker may
    deliver them."""
    from dispatcher.celery import app

    for _ in range(count):
        app.send_task(DOORBELL_TASK, args=[lane], queue=lane)


def test_delivered_on_200_with_the_hotmart_headers_and_the_exact_payload(stack, httpserver, producer, product):
    httpserver.expect_request("/hook", method="POST").respond_with_data("thanks", status=200)
    add_configuration(producer, httpserver.url_for("/hook"))

    notification = simulate(producer, product)
    done = final(notification)

    assert done.status == NotificationStatus.DELIVERED
    assert done.attempt_count == 1 and done.last_status_code == 200 and done.delivered_at
    [request] = requests_to(httpserver, "/hook")
    hottok = Account.objects.get(user=producer).hottok
    assert request.headers["X-HOTMART-HOTTOK"] == hottok
    assert request.headers["Content-Type"] == "application/json"
    assert "HotmartWebhookDispatcherSimulator" in request.headers["User-Agent"]
    assert request.headers["X-Dispatcher-Delivery-Id"] == str(notification.pk)
    assert request.headers["X-Dispatcher-Attempt"] == "1"
    assert request.get_data() == notification.payload.encode("utf-8")
    assert json.loads(request.get_data())["event"] == "PURCHASE_APPROVED"
    [attempt] = done.attempts.all()
    assert attempt.response_status == 200 and attempt.response_body == "thanks" and not attempt.error_kind
    assert attempt.trigger == "automatic" and attempt.task_id
    assert attempt.request_headers["X-HOTMART-HOTTOK"] != hottok, "the stored hottok is masked"
    assert attempt.request_headers["X-HOTMART-HOTTOK"].startswith(hottok[:4])


def test_500_500_200_gives_three_attempts_with_the_same_payload_id(stack, httpserver, producer, product):
    httpserver.expect_ordered_request("/hook").respond_with_data("busy", status=500)
    httpserver.expect_ordered_request("/hook").respond_with_data("busy", status=500)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok", status=200)
    add_configuration(producer, httpserver.url_for("/hook"))

    done = final(simulate(producer, product))

    assert done.status == NotificationStatus.DELIVERED
    assert [a.response_status for a in done.attempts.all()] == [500, 500, 200]
    received = requests_to(httpserver, "/hook")
    assert [r.headers["X-Dispatcher-Attempt"] for r in received] == ["1", "2", "3"]
    assert len({r.get_data() for r in received}) == 1, "retries send the same bytes"
    assert len({json.loads(r.get_data())["id"] for r in received}) == 1


def test_five_500s_fail_after_exactly_five_attempts(stack, httpserver, producer, product):
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    configuration = add_configuration(producer, httpserver.url_for("/hook"))

    done = final(simulate(producer, product))

    assert done.status == NotificationStatus.FAILED
    assert done.attempt_count == 5 and done.next_attempt_at is None
    assert [a.number for a in done.attempts.all()] == [1, 2, 3, 4, 5]
    assert len(requests_to(httpserver, "/hook")) == 5
    configuration.refresh_from_db()
    assert configuration.is_active, "a server error is not a URL error"


def test_read_timeout_is_recorded_as_minus_one_with_its_kind(stack, httpserver, producer, product):
    def slow(_request):
        time.sleep(1.6)  # the receiver is slow on purpose: the worker's read timeout is 1 s
        return Response("late", status=200)

    httpserver.expect_ordered_request("/hook").respond_with_handler(slow)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok", status=200)
    add_configuration(producer, httpserver.url_for("/hook"))

    done = final(simulate(producer, product))

    first, second = done.attempts.all()
    assert first.response_status == -1 and first.error_kind == "read_timeout"
    assert "timed out" in first.error_message
    assert second.response_status == 200
    assert done.status == NotificationStatus.DELIVERED


def test_refused_connection_is_minus_one_and_five_of_them_disable_the_configuration(stack, producer, product):
    configuration = add_configuration(producer, f"http://127.0.0.1:{free_port()}/hook")

    done = final(simulate(producer, product))

    assert done.status == NotificationStatus.FAILED
    assert [(a.response_status, a.error_kind) for a in done.attempts.all()] == [(-1, "connection_refused")] * 5
    configuration.refresh_from_db()
    assert configuration.status == Configuration.Status.DISABLED
    assert "connection refused" in configuration.disabled_reason and configuration.disabled_at
    # and nothing more goes to it until it is enabled again
    assert event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product).notifications == []


def test_one_refusal_followed_by_a_200_does_not_disable(stack, producer, product):
    port = free_port()
    configuration = add_configuration(producer, f"http://127.0.0.1:{port}/hook")
    notification = simulate(producer, product)
    wait_until(lambda: notification.attempts.exists(), message="the first attempt")
    receiver = HTTPServer(host="127.0.0.1", port=port)
    receiver.expect_request("/hook").respond_with_data("ok", status=200)
    receiver.start()
    try:
        done = final(notification)
    finally:
        receiver.stop()

    attempts = list(done.attempts.all())
    assert attempts[0].error_kind == "connection_refused"
    assert attempts[-1].response_status == 200
    assert done.status == NotificationStatus.DELIVERED
    configuration.refresh_from_db()
    assert configuration.is_active


def test_a_redirect_is_a_failure_and_is_not_followed(stack, httpserver, producer, product):
    httpserver.expect_request("/hook").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/elsewhere")}
    )
    httpserver.expect_request("/elsewhere").respond_with_data("ok", status=200)
    configuration = add_configuration(producer, httpserver.url_for("/hook"))

    done = final(simulate(producer, product))

    assert done.status == NotificationStatus.FAILED
    assert {(a.response_status, a.error_kind) for a in done.attempts.all()} == {(302, "redirect")}
    assert "/elsewhere" in done.attempts.first().error_message
    assert requests_to(httpserver, "/elsewhere") == []
    configuration.refresh_from_db()
    assert configuration.is_active


def test_410_gone_disables_the_configuration_at_once(stack, httpserver, producer, product):
    httpserver.expect_request("/hook").respond_with_data("gone", status=410)
    configuration = add_configuration(producer, httpserver.url_for("/hook"))

    done = final(simulate(producer, product))

    assert done.status == NotificationStatus.FAILED and done.attempt_count == 1
    configuration.refresh_from_db()
    assert configuration.status == Configuration.Status.DISABLED
    assert "410" in configuration.disabled_reason


def test_the_response_body_is_kept_up_to_64_kib(stack, httpserver, producer, product):
    httpserver.expect_request("/hook").respond_with_data("x" * 200_000, status=200)
    add_configuration(producer, httpserver.url_for("/hook"))

    attempt = final(simulate(producer, product)).attempts.get()

    assert len(attempt.response_body) == 64 * 1024
    assert attempt.response_body_truncated


def test_a_duplicated_message_does_not_send_twice(stack, httpserver, producer, product):
    def slow_ok(_request):
        time.sleep(0.5)  # keeps the first POST in flight while the duplicates arrive
        return Response("ok", status=200)

    httpserver.expect_request("/hook").respond_with_handler(slow_ok)
    add_configuration(producer, httpserver.url_for("/hook"))

    notification = simulate(producer, product)
    extra_doorbells(4)
    done = final(notification)

    assert done.status == NotificationStatus.DELIVERED
    assert len(requests_to(httpserver, "/hook")) == 1
    assert done.attempt_count == 1


def test_a_flushed_redis_queue_is_recovered_by_the_beat_sweep(stack, httpserver, producer, product):
    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    add_configuration(producer, httpserver.url_for("/hook"))
    broker = redis.Redis.from_url(settings.REDIS_URL)

    stack.worker.stop()
    try:
        notification = simulate(producer, product)
        assert broker.llen("deliveries") >= 1, "the message was queued"
        broker.flushdb()
        assert broker.llen("deliveries") == 0, "and now it is lost"
    finally:
        stack.start_worker()

    done = final(notification)
    assert done.status == NotificationStatus.DELIVERED
    assert len(requests_to(httpserver, "/hook")) == 1


def test_retry_after_on_503_lengthens_the_delay_within_its_bound(stack, httpserver, producer, product):
    httpserver.expect_ordered_request("/hook").respond_with_data("busy", status=503, headers={"Retry-After": "2"})
    httpserver.expect_ordered_request("/hook").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "99999"}
    )
    httpserver.expect_ordered_request("/hook").respond_with_data("ok", status=200)
    add_configuration(producer, httpserver.url_for("/hook"))

    notification = simulate(producer, product)
    retrying = wait_until(
        lambda: Notification.objects.filter(pk=notification.pk, attempt_count=2).first(),
        message="the second attempt",
    )
    second = retrying.attempts.get(number=2)
    first = retrying.attempts.get(number=1)
    # the schedule says 0.3 s; the receiver asked for 2 s
    assert (second.started_at - first.started_at).total_seconds() >= 2
    # the second asked for a day: it gets the sandbox's cap of 60 s, not more
    wait_ahead = (retrying.next_attempt_at - second.started_at).total_seconds()
    assert 30 < wait_ahead <= 61


def test_a_fan_out_rings_once_and_is_delivered_side_by_side(stack, httpserver, producer, product):
    """Ten configurations, one event: one doorbell; receivers that take 0.5 s each do not make the last one
    wait for the nine before it."""
    import redis as redis_client

    def slow(_request):
        time.sleep(0.5)  # every receiver is slow on purpose (under the 1 s read timeout)
        return Response("ok", status=200)

    for n in range(10):
        httpserver.expect_request(f"/hook/{n}").respond_with_handler(slow)
        add_configuration(producer, httpserver.url_for(f"/hook/{n}"), name=f"receiver {n}")
    broker = redis_client.Redis.from_url(settings.REDIS_URL)

    stack.worker.stop()
    try:
        notifications = event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product).notifications
        assert broker.llen("deliveries") == 1, "one doorbell for the whole fan-out"
    finally:
        stack.start_worker()
    done = [final(n) for n in notifications]

    assert {n.status for n in done} == {NotificationStatus.DELIVERED}
    starts = sorted(n.attempts.get().started_at for n in done)
    # all ten in flight at once: the last starts with the first, where one after the other it would start after
    # nine slow answers (4.5 s)
    assert (starts[-1] - starts[0]).total_seconds() < 2
