"""The receiver check end to end: the real worker runs it against real receivers on 127.0.0.1, one done right
and one per common mistake, and each check's grade is asserted; History keeps every POST, final and out of the
engine's way, and the configuration checked is never marked failing or disabled."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalogue.events import EventType
from configurations.services import configuration_create, signing_secret_rotate
from history import claims
from history.choices import NotificationStatus
from history.models import Notification
from history.publishing import notification_resend
from receiver_checks.choices import Grade, RunStatus
from receiver_checks.models import ReceiverCheck
from receiver_checks.services import receiver_check_start
from tests.conftest import wait_until
from tests.receiver_checks.receivers import Receiver
from tests.receiver_checks.test_suite import CONTRACT

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EVERY_EVENT = {f"event:{e}": Grade.FAIL for e in EventType.values}
# When every notification is refused, each comparison is inconclusive: a warning, never a pass or a fail.
INCONCLUSIVE = {key: Grade.WARN for key in CONTRACT}


def run_check(owner, **target) -> ReceiverCheck:
    run, created = receiver_check_start(owner=owner, **target)
    assert created
    wait_until(
        lambda: (
            ReceiverCheck.objects.get(pk=run.pk).status != RunStatus.QUEUED
            and ReceiverCheck.objects.get(pk=run.pk).status != RunStatus.RUNNING
        ),
        timeout=90,
        message=f"receiver check {run.pk} to finish",
    )
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.status_reason
    return run


def grades(run: ReceiverCheck) -> dict[str, str]:
    return {r.key: r.grade for r in run.results.all()}


def expected(run: ReceiverCheck, **overrides: str) -> dict[str, str]:
    """Every check of the run passing, but for ``overrides``."""
    return {r.key: overrides.get(r.key, Grade.PASS) for r in run.results.all()}


def test_a_receiver_done_right_passes_every_check(stack, producer):
    hottok = producer.webhook_account.hottok
    with Receiver(hottok) as receiver:
        run = run_check(producer, url=receiver.url)

    assert grades(run) == expected(run)
    assert len(run.results.all()) == 1 + 15 + len(CONTRACT) + 2
    assert run.grade == Grade.PASS
    assert run.hottok_shown and run.hottok_shown != hottok and hottok not in str(run.results.values())

    # History has every POST as a test notification of this URL, final, with its attempts.
    notifications = Notification.objects.filter(owner=producer).order_by("id")
    caught = receiver.caught
    assert len(caught) == sum(n.attempt_count for n in notifications) == 35
    linked = {n for r in run.results.all() for n in r.notification_ids}
    assert linked == {n.pk for n in notifications}
    for n in notifications:
        assert n.is_test and n.configuration_id is None and n.target_url == receiver.url
        assert n.status in (NotificationStatus.DELIVERED, NotificationStatus.FAILED)
        assert n.next_attempt_at is None and n.resend_requested_at is None
        assert n.attempts.count() == n.attempt_count
    repeat = run.results.get(key="repeat")
    [twice] = repeat.notification_ids
    assert list(Notification.objects.get(pk=twice).attempts.values_list("number", flat=True)) == [1, 2]
    # What the receiver got: each POST names its notification; the forged ones never carry the real hottok.
    delivery_ids = {c.headers.get("x-dispatcher-delivery-id") for c in caught} - {None}
    assert delivery_ids <= {str(n.pk) for n in notifications}
    refused = [c for c in caught if c.status == 401]
    assert len(refused) == 2
    assert all(hottok.encode() not in c.body and c.headers.get("x-hotmart-hottok") != hottok for c in refused)
    assert [c for c in caught if "x-dispatcher-delivery-id" not in c.headers]  # the Hotmart-headers-only post

    # The engine never claims, sweeps or resends any of them.
    later = timezone.now() + timedelta(days=1)
    for lane in {n.lane for n in notifications}:
        claimed = claims.notifications_claim(lane=lane, limit=1000, now=later, lease_seconds=1, max_attempts=5)
        assert not {c.pk for c in claimed} & linked
    with pytest.raises(ValidationError):
        notification_resend(owner=producer, notification_id=notifications[0].pk)


MISTAKES = {
    "accepts any hottok": (
        {"accepts_any_hottok": True},
        {"hottok_wrong": Grade.FAIL, "hottok_missing": Grade.FAIL},
        "hottok_wrong",
        "401",
    ),
    "500 on repeats": ({"fails_repeats": True}, {"repeat": Grade.FAIL}, "repeat", "`id`"),
    "301 to https": (
        {"redirects_to_https": True},
        {**EVERY_EVENT, **INCONCLUSIVE, "redirects": Grade.FAIL},
        "redirects",
        "Use the https URL",
    ),
    "5xx on unknown purchases": (
        {"fails_unknown_purchases": True},
        {"unknown_purchase": Grade.FAIL},
        "unknown_purchase",
        "log it and answer 200",
    ),
    "strict about fields": (
        {"rejects_unknown_fields": True},
        {"unknown_field": Grade.FAIL},
        "unknown_field",
        "closed schema",
    ),
    "small body limit": ({"max_body": 16_000}, {"size": Grade.FAIL}, "size", "client_max_body_size"),
    "reads form fields only": (
        {"form_only": True},
        {**EVERY_EVENT, **INCONCLUSIVE, "payload_format": Grade.FAIL},
        "payload_format",
        "php://input",
    ),
    "needs this simulator's headers": (
        {"needs_dispatcher_headers": True},
        {"hotmart_headers": Grade.FAIL},
        "hotmart_headers",
        "Hotmart sends none of them",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_receiver_making_a_common_mistake_fails_the_check_about_it(stack, producer, mistake):
    behaviour, failing, key, advice = MISTAKES[mistake]
    with Receiver(producer.webhook_account.hottok, **behaviour) as receiver:
        run = run_check(producer, url=receiver.url)

    assert grades(run) == expected(run, **failing)
    assert run.grade == Grade.FAIL
    assert advice in run.results.get(key=key).fix


def test_a_slow_receiver_fails_on_speed_and_gets_the_checks_side_by_side(stack, producer, settings):
    # The check runs under the limits in force where it is asked for: here 1 s for the answer.
    settings.DISPATCHER = {**settings.DISPATCHER, "CONNECT_TIMEOUT": 2, "READ_TIMEOUT": 1, "TOTAL_TIMEOUT": 2}
    in_flight, most = [0], [0]
    lock = threading.Lock()

    class Slow(Receiver):
        def answer(self, headers, body):
            with lock:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
            try:
                return super().answer(headers, body)
            finally:
                with lock:
                    in_flight[0] -= 1

    with Slow(producer.webhook_account.hottok, sleeps=1.5) as receiver:
        run = run_check(producer, url=receiver.url)

    assert grades(run) == expected(run, **EVERY_EVENT, **INCONCLUSIVE, speed=Grade.FAIL)
    assert "no answer in time" in run.results.get(key="speed").summary
    assert run.read_timeout == 1
    # Independent checks went side by side: a slow receiver costs about two time limits, not their sum.
    assert most[0] >= 10


def test_a_configuration_is_checked_with_its_events_and_signatures_and_never_disabled(stack, producer):
    with Receiver(producer.webhook_account.hottok, redirects_to_https=True) as broken:
        configuration = configuration_create(
            owner=producer, name="Members area", events=["PURCHASE_APPROVED", "PURCHASE_REFUNDED"], url=broken.url
        )
        signing_secret_rotate(configuration=configuration)
        run = run_check(producer, configuration=configuration)
        caught = broken.caught

    assert set(grades(run)) >= {"event:PURCHASE_APPROVED", "event:PURCHASE_REFUNDED"}
    assert not [k for k in grades(run) if k.startswith("event:") and k[6:] not in configuration.events]
    assert grades(run)["redirects"] == Grade.FAIL
    # Every POST failed, and still: test posts never count for its health, never disable it.
    configuration.refresh_from_db()
    assert configuration.is_active and configuration.failing_since is None
    checked = Notification.objects.filter(configuration=configuration)
    assert checked.count() == len(caught) - 1  # the repeat is one notification with two attempts
    assert all(n.is_test and n.target_url == "" for n in checked)
    # Genuine posts are signed like its deliveries; forged ones are not (a forger has no secret).
    signed = [c for c in caught if "webhook-signature" in c.headers]
    unsigned = [c for c in caught if "webhook-signature" not in c.headers]
    assert signed and all(c.headers.get("x-hotmart-hottok") == producer.webhook_account.hottok for c in signed)
    assert len(unsigned) == 3  # the wrong hottok, the missing one, and the Hotmart-headers-only post


def test_an_unreachable_receiver_ends_the_check_with_every_post_recorded(stack, producer):
    from tests.conftest import free_port

    run = run_check(producer, url=f"http://127.0.0.1:{free_port()}/hook")

    assert grades(run)["event:PURCHASE_APPROVED"] == Grade.FAIL
    assert "Nothing listens" in run.results.get(key="event:PURCHASE_APPROVED").summary
    assert grades(run)["speed"] == Grade.SKIP
    assert all(
        n.last_status_code == -1 and n.attempts.get(number=1).error_kind == "connection_refused"
        for n in Notification.objects.filter(owner=producer)
    )
