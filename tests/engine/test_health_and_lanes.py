"""A configuration's health: the failing clock, the hysteresis auto-disable, and the retries lane that keeps a
hanging receiver from holding up the healthy ones."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from configurations.models import Configuration
from configurations.services import configuration_create
from history.choices import NotificationStatus
from history.models import Attempt, Notification
from history.publishing import event_record
from tests import hostile
from tests.conftest import wait_until
from tests.engine.test_delivery import final, simulate

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_failure_starts_the_failing_clock_and_a_success_stops_it(stack, httpserver, producer, product):
    httpserver.expect_ordered_request("/hook").respond_with_data("down", status=500)
    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    configuration = configuration_create(
        owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook")
    )
    notification = simulate(producer, product)

    wait_until(
        lambda: Configuration.objects.get(pk=configuration.pk).failing_since, message="the failing clock to start"
    )
    first_failure = notification.attempts.get(number=1).started_at
    assert Configuration.objects.get(pk=configuration.pk).failing_since == first_failure
    assert final(notification).status == NotificationStatus.DELIVERED
    assert Configuration.objects.get(pk=configuration.pk).failing_since is None


def test_a_configuration_failing_for_longer_than_the_limit_is_disabled_with_its_reason(
    stack, httpserver, producer, product
):
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    configuration = configuration_create(
        owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook")
    )
    # It has been failing, with no success, for two days (the sandbox limit is one day).
    Configuration.objects.filter(pk=configuration.pk).update(failing_since=timezone.now() - timedelta(days=2))
    pending = simulate(producer, product)

    done = final(pending)

    assert done.status == NotificationStatus.FAILED and done.attempt_count == 1
    configuration.refresh_from_db()
    assert configuration.status == Configuration.Status.DISABLED
    assert "failed for 2 days" in configuration.disabled_reason and "with no success" in configuration.disabled_reason


def test_the_failing_clock_says_when_it_will_be_disabled(producer):
    configuration = configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url="http://a.com/")
    assert configuration.disable_deadline(86400) is None
    since = timezone.now() - timedelta(hours=3)
    configuration.failing_since = since
    assert configuration.disable_deadline(86400) == since + timedelta(days=1)


def _healthy_and_hanging(httpserver, producer, hanging) -> tuple[list[int], Configuration]:
    """10 configurations to healthy receivers and 1 to ``hanging``, all for PURCHASE_APPROVED."""
    healthy = []
    for n in range(10):
        httpserver.expect_request(f"/healthy/{n}").respond_with_data("ok", status=200)
        url = httpserver.url_for(f"/healthy/{n}")
        healthy.append(configuration_create(owner=producer, name=f"healthy {n}", events=["PURCHASE_APPROVED"], url=url))
    stuck = configuration_create(owner=producer, name="hanging", events=["PURCHASE_APPROVED"], url=hanging.url())
    return [c.pk for c in healthy], stuck


def _wait_for_healthy_deliveries(healthy_ids: list[int], count: int, *, timeout: float, message: str) -> None:
    def delivered() -> bool:
        done = Notification.objects.filter(configuration_id__in=healthy_ids, status=NotificationStatus.DELIVERED)
        return done.count() == count

    wait_until(delivered, timeout=timeout, message=message)


def test_a_hanging_receiver_takes_only_its_share_and_holds_up_nobody(stack, httpserver, producer, product):
    """The cold start: a receiver that hangs, not yet known to fail, beside 10 healthy ones, every event fanned
    out to all 11, one deliveries-lane worker.

    Each hanging attempt would last 30 s. The hanging receiver holds its share of the worker (4 POSTs in
    flight) and no more; its other notifications are skipped by the claims, then move to the retries lane
    once its oldest POST has run SLOW_AFTER; every healthy notification is delivered before any hanging attempt
    has ended.
    """
    hanging = hostile.HostileServer(hostile.hang)
    healthy_ids, stuck = _healthy_and_hanging(httpserver, producer, hanging)

    stack.worker.stop()
    lane = stack.new_worker(
        "one-lane",
        queues="deliveries,maintenance",
        env={
            "DISPATCHER_CONFIGURATION_CONCURRENCY": "4",
            "DISPATCHER_SLOW_AFTER": "0.5",
            "DISPATCHER_READ_TIMEOUT": "30",
            "DISPATCHER_TOTAL_TIMEOUT": "30",
        },
    )
    events = 30
    try:
        for _ in range(events):
            event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product)
        stack.start_worker(lane)
        _wait_for_healthy_deliveries(
            healthy_ids,
            events * len(healthy_ids),
            timeout=25,  # less than one hanging attempt lasts
            message="every healthy notification to be delivered while the hanging attempts still hang",
        )
        moved = wait_until(
            lambda: (
                Notification.objects.filter(configuration=stuck, lane="retries", locked_until=None).count()
                >= events - 4
            ),
            timeout=20,
            message="the hanging receiver's waiting notifications to move to the retries lane",
        )
        hanging_attempts_started = len(hanging.requests)
        hanging_attempts_ended = Attempt.objects.filter(notification__configuration=stuck).count()
    finally:
        hanging.stop()
        lane.stop()
        stack.start_worker()

    assert hanging_attempts_ended == 0, "a healthy notification waited for a hanging attempt to end"
    assert hanging_attempts_started == 4, "the hanging receiver took more (or less) than its share"
    assert moved


def test_a_failing_receivers_waiting_notifications_leave_the_deliveries_lane(stack, httpserver, producer, product):
    """Its first failure starts the failing clock; its notifications still waiting (and one already on its way)
    move to the retries lane, so the deliveries lane's workers spend nothing more on them."""
    release = threading.Event()
    seen = []

    def fail_then_hold(_request):
        seen.append(1)
        if len(seen) > 1:
            release.wait(timeout=60)  # a later attempt stays in flight: never recorded during the test
        return Response("down", status=500)

    httpserver.expect_request("/failing").respond_with_handler(fail_then_hold)
    failing = configuration_create(
        owner=producer, name="failing", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/failing")
    )
    stack.worker.stop()
    lane = stack.new_worker(
        "deliveries-only",
        queues="deliveries,maintenance",
        env={
            "DISPATCHER_CONFIGURATION_CONCURRENCY": "1",
            "DISPATCHER_READ_TIMEOUT": "60",
            "DISPATCHER_TOTAL_TIMEOUT": "60",
        },
    )
    try:
        for _ in range(5):
            simulate(producer, product)
        stack.start_worker(lane)
        wait_until(
            lambda: Notification.objects.filter(configuration=failing, lane="retries").count() == 5,
            message="every notification of the failing receiver to wait in the retries lane",
        )
        recorded = Attempt.objects.filter(notification__configuration=failing).count()
        posted = len(seen)
    finally:
        release.set()
        lane.stop()
        stack.start_worker()

    assert Configuration.objects.get(pk=failing.pk).failing_since is not None
    assert recorded == 1, "the deliveries lane recorded one failure, then left the rest to the retries lane"
    assert posted <= 2, "at most one more POST was on its way when the failure was recorded"


def test_a_tenant_with_its_own_queue_gets_everything_there(stack, httpserver, producer, product):
    import redis
    from django.conf import settings
    from django.test import override_settings

    from history.lanes import DELIVERIES, RETRIES, lane_for

    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))
    queue = f"tenant_{producer.pk}"
    broker = redis.Redis.from_url(settings.REDIS_URL)
    with override_settings(DISPATCHER_TENANT_QUEUES={producer.username: queue}):
        assert lane_for(failing=False, owner_id=producer.pk) == queue
        assert lane_for(failing=True, retry=True, owner_id=producer.pk) == queue
        assert lane_for(failing=False, owner_id=producer.pk + 1000) == DELIVERIES
        assert lane_for(failing=True, owner_id=producer.pk + 1000) == RETRIES
        notification = simulate(producer, product)
        assert Notification.objects.get(pk=notification.pk).lane == queue
        assert broker.llen(queue) == 1, "the doorbell rang on the tenant's queue"
    tenant_worker = stack.new_worker("tenant", queues=queue, concurrency=2)
    stack.start_worker(tenant_worker)
    try:
        assert final(notification).status == NotificationStatus.DELIVERED
    finally:
        tenant_worker.stop()
