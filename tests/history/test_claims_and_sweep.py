"""The row is the truth: one worker at a time holds a notification, and the sweep finds what waits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from history import selectors, services
from history.choices import NotificationStatus
from history.models import Notification
from tests.factories import ConfigurationFactory


def due_ids(**kwargs) -> list[int]:
    return [due.id for due in selectors.notifications_due(**kwargs)]


@pytest.fixture
def notification(producer, product):
    from dispatcher.services import event_record

    ConfigurationFactory(owner=producer)
    return event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product).notifications[0]


def test_a_claimed_notification_cannot_be_claimed_again_until_its_lease_ends(notification):
    now = timezone.now()
    first = services.notification_claim(notification_id=notification.pk, now=now, lease_seconds=30)
    assert first is not None and first.lock_token
    assert services.notification_claim(notification_id=notification.pk, now=now, lease_seconds=30) is None
    later = now + timedelta(seconds=31)
    second = services.notification_claim(notification_id=notification.pk, now=later, lease_seconds=30)
    assert second is not None and second.lock_token != first.lock_token


def test_final_or_not_yet_due_notifications_are_not_claimed(notification):
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=now + timedelta(seconds=10))
    assert services.notification_claim(notification_id=notification.pk, now=now, lease_seconds=30) is None
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=now, status=NotificationStatus.DELIVERED)
    assert services.notification_claim(notification_id=notification.pk, now=now, lease_seconds=30) is None


def test_an_attempt_recorded_with_a_lost_claim_is_dropped(notification):
    now = timezone.now()
    stale = services.notification_claim(notification_id=notification.pk, now=now, lease_seconds=1)
    fresh = services.notification_claim(
        notification_id=notification.pk, now=now + timedelta(seconds=2), lease_seconds=30
    )
    data = services.AttemptData(
        number=1,
        trigger="automatic",
        started_at=now,
        duration_ms=5,
        request_url="http://x",
        request_headers={},
        request_body_sha256="0" * 64,
        response_status=200,
        response_headers={},
        response_body="",
        response_body_truncated=False,
        error_kind="",
        error_message="",
    )
    assert (
        services.attempt_record(
            notification=stale,
            lock_token=stale.lock_token,
            attempt=data,
            transition=services.Transition("delivered"),
            now=now,
        )
        is None
    )
    saved = services.attempt_record(
        notification=fresh,
        lock_token=fresh.lock_token,
        attempt=data,
        transition=services.Transition("delivered"),
        now=now,
    )
    assert saved is not None
    notification.refresh_from_db()
    assert notification.status == "delivered" and notification.attempt_count == 1 and notification.lock_token is None


def test_sweep_finds_due_notifications_whose_message_is_overdue(notification):
    now = timezone.now()
    grace = 10
    assert due_ids(now=now, grace_seconds=grace, limit=10) == [], "just enqueued"
    Notification.objects.filter(pk=notification.pk).update(enqueued_at=now - timedelta(seconds=grace + 1))
    assert due_ids(now=now, grace_seconds=grace, limit=10) == [notification.pk]
    Notification.objects.filter(pk=notification.pk).update(enqueued_at=None)
    assert due_ids(now=now, grace_seconds=grace, limit=10) == [notification.pk]
    # not while a worker holds it, nor before it is due, nor once it is final
    Notification.objects.filter(pk=notification.pk).update(locked_until=now + timedelta(seconds=5))
    assert due_ids(now=now, grace_seconds=grace, limit=10) == []
    Notification.objects.filter(pk=notification.pk).update(
        locked_until=None, next_attempt_at=now + timedelta(seconds=5)
    )
    assert due_ids(now=now, grace_seconds=grace, limit=10) == []
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=now, status=NotificationStatus.FAILED)
    assert due_ids(now=now, grace_seconds=grace, limit=10) == []


def test_purge_deletes_only_history_older_than_the_cutoff(notification, product, producer):
    from dispatcher.services import event_record
    from history.models import Event

    old_event = notification.event
    Event.objects.filter(pk=old_event.pk).update(created_at=timezone.now() - timedelta(days=61))
    recent = event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product)

    deleted = services.history_purge(before=timezone.now() - timedelta(days=60), batch_size=1)

    assert deleted == 1
    assert not Notification.objects.filter(pk=notification.pk).exists()
    assert Event.objects.filter(pk=recent.event.pk).exists()


def test_sweep_finds_a_manual_resend_whose_message_was_lost(notification):
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.FAILED, next_attempt_at=None, resend_requested_at=now, enqueued_at=now
    )
    assert due_ids(now=now, grace_seconds=10, limit=10) == []
    later = now + timedelta(seconds=11)
    assert due_ids(now=later, grace_seconds=10, limit=10) == [notification.pk]
    claimed = services.notification_claim(notification_id=notification.pk, now=later, lease_seconds=30)
    assert claimed is not None, "a failed notification can be claimed for its manual resend"


def test_a_claim_taking_over_a_dead_workers_claim_says_when_that_one_started(notification):
    now = timezone.now()
    dead = services.notification_claim(notification_id=notification.pk, now=now, lease_seconds=1)
    assert dead.interrupted_at is None, "nobody held it before"
    taker = services.notification_claim(
        notification_id=notification.pk, now=now + timedelta(seconds=2), lease_seconds=30
    )
    assert taker.interrupted_at == dead.claimed_at == now


def test_the_sweep_records_an_attempt_cut_off_on_a_notification_nobody_will_claim_again(notification):
    """A worker died mid-POST, then the configuration was disabled: the lost attempt still shows."""
    now = timezone.now()
    services.notification_claim(notification_id=notification.pk, now=now, lease_seconds=1)
    services.notifications_cancel_for_configuration(configuration_id=notification.configuration_id, reason="off")

    assert services.notifications_close_interrupted(now=now) == 0, "its lease has not run out yet"
    assert services.notifications_close_interrupted(now=now + timedelta(seconds=2)) == 1

    closed = Notification.objects.get(pk=notification.pk)
    assert closed.status == NotificationStatus.CANCELLED and closed.lock_token is None
    assert closed.attempt_count == 1 and closed.last_status_code == -1
    [attempt] = closed.attempts.all()
    assert (attempt.number, attempt.response_status, attempt.error_kind) == (1, -1, "interrupted")
    assert attempt.started_at == now
    assert services.notifications_close_interrupted(now=now + timedelta(seconds=3)) == 0, "recorded once"


def test_nul_in_what_a_receiver_sent_is_stored_escaped(notification):
    now = timezone.now()
    claim = services.notification_claim(notification_id=notification.pk, now=now, lease_seconds=30)
    data = services.AttemptData(
        number=1,
        trigger="automatic",
        started_at=now,
        duration_ms=5,
        request_url="http://x",
        request_headers={},
        request_body_sha256="0" * 64,
        response_status=500,
        response_headers={"X-A\x00": "b\x00c"},
        response_body="o\x00k",
        response_body_truncated=False,
        error_kind="http_status",
        error_message="HTTP 500 Bro\x00ken",
    )
    transition = services.Transition(NotificationStatus.FAILED, None, "HTTP 500 Bro\x00ken")

    assert services.attempt_record(
        notification=claim, lock_token=claim.lock_token, attempt=data, transition=transition, now=now
    )

    attempt = Notification.objects.get(pk=notification.pk).attempts.get()
    assert attempt.response_body == "o\\x00k" and attempt.response_headers == {"X-A\\x00": "b\\x00c"}
    assert attempt.error_message == "HTTP 500 Bro\\x00ken" and attempt.response_escaped
    assert Notification.objects.get(pk=notification.pk).status_reason == "HTTP 500 Bro\\x00ken"
