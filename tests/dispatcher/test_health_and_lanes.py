"""A configuration's health: the failing clock, the hysteresis auto-disable, and the retries lane that keeps a
hanging receiver from holding up the healthy ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from configurations.models import Configuration
from configurations.services import configuration_create
from dispatcher.services import event_record
from history.choices import NotificationStatus
from history.models import Attempt, Notification
from tests import hostile
from tests.conftest import wait_until
from tests.dispatcher.test_delivery import final, simulate

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


def test_a_hanging_receiver_does_not_hold_up_the_healthy_ones(stack, httpserver, producer, product):
    """1 hanging and 10 healthy receivers; events fan out to all 11; 4 workers in the healthy lane, 1 in retries.

    Every attempt to the hanging receiver takes the full 3 s total timeout. Had they stayed in the healthy
    lane, delivering all healthy notifications would first take every hanging first attempt (the queue is
    interleaved); with the retries lane, the healthy ones are all delivered while few hanging ones started.
    """
    hanging = hostile.HostileServer(hostile.drip_headers)
    healthy_ids, stuck = _healthy_and_hanging(httpserver, producer, hanging)

    stack.worker.stop()
    lanes = [
        stack.new_worker("healthy-lane", queues="deliveries,maintenance", concurrency=4),
        stack.new_worker("retries-lane", queues="retries", concurrency=1),
    ]
    try:
        for worker in lanes:
            stack.start_worker(worker)
        events = 40
        for _ in range(events):
            event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product)
        _wait_for_healthy_deliveries(
            healthy_ids, events * len(healthy_ids), timeout=60, message="every healthy notification to be delivered"
        )
        hanging_attempts_started = len(hanging.requests)
        rerouted = Notification.objects.filter(configuration=stuck, attempt_count=0).count()
    finally:
        for worker in lanes:
            worker.stop()
        hanging.stop()
        stack.start_worker()

    print(f"hanging attempts started while the healthy lane delivered {events * 10}: {hanging_attempts_started}")
    assert hanging_attempts_started < events / 2, "the hanging receiver took the healthy lane's workers"
    assert rerouted > 0, "queued hanging notifications moved to the retries lane without an attempt"
    assert Configuration.objects.get(pk=stuck.pk).failing_since is not None


def test_a_hanging_receiver_takes_only_its_share_of_a_workers_delivery_threads(stack, httpserver, producer, product):
    """The cold start: a receiver that hangs, not yet known to fail, in the same messages as 10 healthy ones.

    One deliveries-lane worker whose message threads share 4 delivery threads, and no retries worker. Each
    hanging attempt would last 30 s. Without the fair share, the hanging receiver's first notifications take
    all 4 threads (one per message) and the healthy ones wait those 30 s; with it, the hanging receiver holds
    a quarter of them (1), its next notifications move to the retries lane, and every healthy one is delivered
    before any hanging attempt has ended.
    """
    hanging = hostile.HostileServer(hostile.hang)
    healthy_ids, stuck = _healthy_and_hanging(httpserver, producer, hanging)

    stack.worker.stop()
    lane = stack.new_worker(
        "one-lane",
        queues="deliveries,maintenance",
        concurrency=8,
        env={
            "DISPATCHER_BATCH_CONCURRENCY": "4",
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
        hanging_attempts_started = len(hanging.requests)
        hanging_attempts_ended = Attempt.objects.filter(notification__configuration=stuck).count()
        untouched = Notification.objects.filter(configuration=stuck, attempt_count=0, locked_until=None).count()
    finally:
        hanging.stop()
        lane.stop()
        stack.start_worker()

    assert hanging_attempts_ended == 0, "a healthy notification waited for a hanging attempt to end"
    assert hanging_attempts_started <= 1, "the hanging receiver took more than its share of the delivery threads"
    assert untouched >= events - 1, "the hanging receiver's other notifications were left to the retries lane"


def test_a_tenant_with_its_own_queue_gets_everything_there(stack, httpserver, producer, product):
    import redis
    from django.conf import settings
    from django.test import override_settings

    from dispatcher.queue import DELIVERIES, RETRIES, lane_for

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
        assert broker.llen(queue) == 1, "the message went to the tenant's queue"
    tenant_worker = stack.new_worker("tenant", queues=queue, concurrency=2)
    stack.start_worker(tenant_worker)
    try:
        assert final(notification).status == NotificationStatus.DELIVERED
    finally:
        tenant_worker.stop()
