"""Manual resends, test posts and bulk resends, end to end through the real worker."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from configurations.models import Configuration
from configurations.services import configuration_create
from history.choices import BulkResendStatus, NotificationStatus
from history.models import BulkResend, Notification
from history.publishing import bulk_resend_start, configuration_stop, configuration_test_post, notification_resend
from tests.conftest import wait_until
from tests.engine.test_delivery import final, requests_to, simulate
from tests.factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def attempts_of(notification, n, timeout=20):
    return wait_until(
        lambda: (
            notification.attempts.count() >= n and not Notification.objects.get(pk=notification.pk).resend_requested_at
        ),
        timeout=timeout,
        message=f"{n} attempts of notification {notification.pk}",
    )


def test_resending_a_failed_notification_adds_a_manual_attempt(stack, httpserver, producer, product):
    for _ in range(5):
        httpserver.expect_ordered_request("/hook").respond_with_data("gone wrong", status=500)
    httpserver.expect_ordered_request("/hook").respond_with_data("fixed", status=200)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))
    failed = final(simulate(producer, product))
    assert failed.status == NotificationStatus.FAILED

    stack.worker.stop()  # both clicks land while the first resend is surely still waiting for a worker
    try:
        notification_resend(owner=producer, notification_id=failed.pk)
        waiting = notification_resend(owner=producer, notification_id=failed.pk)  # a second click: no effect
    finally:
        stack.start_worker()
    assert waiting.resend_requested_at is not None
    attempts_of(failed, 6)

    done = Notification.objects.get(pk=failed.pk)
    assert done.status == NotificationStatus.DELIVERED and done.attempt_count == 6
    assert done.automatic_attempt_count == 5
    last = done.attempts.last()
    assert last.trigger == "manual" and last.number == 6 and last.response_status == 200
    received = requests_to(httpserver, "/hook")
    assert len(received) == 6
    assert received[-1].get_data() == received[0].get_data(), "a resend sends the same bytes"
    assert received[-1].headers["X-Dispatcher-Attempt"] == "6"


def test_a_failed_resend_leaves_a_delivered_notification_delivered(stack, httpserver, producer, product):
    httpserver.expect_ordered_request("/hook").respond_with_data("ok", status=200)
    httpserver.expect_ordered_request("/hook").respond_with_data("down", status=503)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))
    delivered = final(simulate(producer, product))

    notification_resend(owner=producer, notification_id=delivered.pk)
    attempts_of(delivered, 2)

    after = Notification.objects.get(pk=delivered.pk)
    assert after.status == NotificationStatus.DELIVERED
    assert after.last_status_code == 503
    assert [a.trigger for a in after.attempts.all()] == ["automatic", "manual"]


def test_resend_goes_out_even_while_the_configuration_is_disabled(stack, httpserver, producer, product):
    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    configuration = configuration_create(
        owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook")
    )
    delivered = final(simulate(producer, product))
    configuration_stop(configuration_id=configuration.pk, reason="paused by owner")

    notification_resend(owner=producer, notification_id=delivered.pk)
    attempts_of(delivered, 2)
    assert len(requests_to(httpserver, "/hook")) == 2


def test_another_producer_cannot_resend(stack, producer, product):
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url="http://127.0.0.1:9/x")
    notification = simulate(producer, product)
    with pytest.raises(ValidationError):
        notification_resend(owner=UserFactory(), notification_id=notification.pk)


def test_a_test_post_is_one_attempt_of_a_sample_payload_marked_as_test(stack, httpserver, producer, product):
    httpserver.expect_request("/hook").respond_with_data("nope", status=410)
    configuration = configuration_create(
        owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook")
    )
    configuration_stop(configuration_id=configuration.pk, reason="checking the URL before enabling")

    notification = configuration_test_post(owner=producer, configuration=configuration, event_type="SWITCH_PLAN")
    done = final(notification)

    assert done.is_test and done.event_type == "SWITCH_PLAN"
    assert done.status == NotificationStatus.FAILED and done.attempt_count == 1
    [request] = requests_to(httpserver, "/hook")
    payload = json.loads(request.get_data())
    assert payload["event"] == "SWITCH_PLAN"
    assert payload["data"]["subscription"]["product"] == {"id": 0, "name": "Produto de teste"}
    configuration.refresh_from_db()
    assert configuration.disabled_reason == "checking the URL before enabling", "a test post never disables"


def test_test_post_refuses_an_unknown_event(producer):
    configuration = configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url="http://a.com/")
    with pytest.raises(ValidationError) as caught:
        configuration_test_post(owner=producer, configuration=configuration, event_type="NOPE")
    assert "event_type" in caught.value.message_dict


def test_bulk_resend_resends_the_failed_notifications_of_the_window(stack, httpserver, producer, product):
    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    configuration = configuration_create(
        owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook")
    )
    notifications = [simulate(producer, product) for _ in range(4)]
    for n in notifications:
        final(n)
    # three of them failed yesterday, one of them too long ago to be in the window
    now = timezone.now()
    failed_ids = [n.pk for n in notifications[:3]]
    Notification.objects.filter(pk__in=failed_ids).update(status=NotificationStatus.FAILED)
    Notification.objects.filter(pk=notifications[2].pk).update(created_at=now - timedelta(days=10))

    job = bulk_resend_start(
        owner=producer, configuration=configuration, window_start=now - timedelta(days=1), window_end=now
    )
    assert job.total == 2
    done = wait_until(
        lambda: BulkResend.objects.filter(pk=job.pk, status=BulkResendStatus.DONE).first(), message="the bulk job"
    )
    assert done.requested == 2 and done.progress == 1.0
    for n in notifications[:2]:
        attempts_of(n, 2)
        assert Notification.objects.get(pk=n.pk).status == NotificationStatus.DELIVERED
    assert notifications[2].attempts.count() == 1, "outside the window"
    assert notifications[3].attempts.count() == 1, "not failed"


def test_bulk_resend_refuses_a_backwards_window(producer):
    configuration = configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url="http://a.com/")
    now = timezone.now()
    with pytest.raises(ValidationError) as caught:
        bulk_resend_start(owner=producer, configuration=configuration, window_start=now, window_end=now - timedelta(1))
    assert "window_start" in caught.value.message_dict
    assert not Configuration.objects.filter(status="disabled").exists()
