"""Asking for a check: bad input gets a clear error, a repeated request never runs a check twice, a check that
no worker takes in time ends expired, and production mode keeps its address guard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from history.models import Notification
from receiver_checks import selectors, services
from receiver_checks.choices import Grade, RunStatus
from receiver_checks.models import ReceiverCheck
from tests.factories import ConfigurationFactory
from tests.receiver_checks.receivers import Receiver

pytestmark = pytest.mark.django_db


def test_the_same_idempotency_key_answers_the_same_check(producer):
    first, created = services.receiver_check_start(owner=producer, url="http://127.0.0.1:9/a", idempotency_key="k1")
    again, created_again = services.receiver_check_start(
        owner=producer, url="http://127.0.0.1:9/a", idempotency_key="k1"
    )
    assert created and not created_again and again.pk == first.pk
    assert ReceiverCheck.objects.count() == 1


def test_a_receiver_being_checked_is_not_checked_twice_at_once(producer, configuration):
    first, _ = services.receiver_check_start(owner=producer, configuration=configuration, idempotency_key="a")
    second, created = services.receiver_check_start(owner=producer, configuration=configuration, idempotency_key="b")
    assert not created and second.pk == first.pk
    # Another receiver, or the same URL in the other format, is another check.
    other, created = services.receiver_check_start(owner=producer, url=configuration.url, payload_version="1.0")
    assert created and other.pk != first.pk


def test_a_finished_check_does_not_stop_a_new_one(producer, configuration):
    first, _ = services.receiver_check_start(owner=producer, configuration=configuration)
    ReceiverCheck.objects.filter(pk=first.pk).update(status=RunStatus.DONE, grade=Grade.PASS)
    second, created = services.receiver_check_start(owner=producer, configuration=configuration)
    assert created and second.pk != first.pk


def test_a_producer_has_at_most_three_checks_in_flight(producer):
    for n in range(services.MAX_IN_FLIGHT):
        services.receiver_check_start(owner=producer, url=f"http://127.0.0.1:9/{n}")
    with pytest.raises(ValidationError, match="wait for one of them to finish"):
        services.receiver_check_start(owner=producer, url="http://127.0.0.1:9/more")


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({}, "url", "Enter the URL to check"),
        ({"url": "ftp://example.com/x"}, "url", "http:// or https://"),
        ({"url": "http://exa mple.com/"}, "url", "spaces"),
        ({"url": "http://127.0.0.1:9/x", "payload_version": "3.0"}, "payload_version", "Choose"),
        ({"url": "http://127.0.0.1:9/x", "idempotency_key": "k" * 101}, "idempotency_key", "longer than 100"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_saves_nothing(producer, kwargs, field, message):
    with pytest.raises(ValidationError) as refused:
        services.receiver_check_start(owner=producer, **kwargs)
    assert message in " ".join(refused.value.message_dict[field])
    assert not ReceiverCheck.objects.exists()


def test_a_configuration_and_a_url_together_or_someone_elses_configuration_are_refused(producer, stranger):
    mine = ConfigurationFactory(owner=producer)
    with pytest.raises(ValidationError, match="not both"):
        services.receiver_check_start(owner=producer, configuration=mine, url="http://127.0.0.1:9/x")
    with pytest.raises(ValidationError, match="No such configuration"):
        services.receiver_check_start(owner=stranger, configuration=mine)
    with pytest.raises(ValidationError, match="its own payload version"):
        services.receiver_check_start(owner=producer, configuration=mine, payload_version="1.0")


def test_a_bare_url_gets_every_event_and_the_legacy_form_every_purchase_event(producer):
    json_check, _ = services.receiver_check_start(owner=producer, url="http://127.0.0.1:9/json")
    form_check, _ = services.receiver_check_start(owner=producer, url="http://127.0.0.1:9/form", payload_version="1.0")
    assert len(json_check.events) == 15
    assert len(form_check.events) == 9 and all(e.startswith("PURCHASE_") for e in form_check.events)
    assert "OUT_OF_SHOPPING_CART" not in " ".join(form_check.events)


def test_a_check_no_worker_started_in_time_is_expired_and_frees_its_receiver(producer, configuration):
    stale, _ = services.receiver_check_start(owner=producer, configuration=configuration)
    ReceiverCheck.objects.filter(pk=stale.pk).update(start_by=timezone.now() - timedelta(seconds=1))

    assert selectors.receiver_check_progress(stale.__class__.objects.get(pk=stale.pk)).status == RunStatus.EXPIRED
    assert services.receiver_check_run(check_id=stale.pk) == "expired"  # a late worker does not run it
    stale.refresh_from_db()
    assert stale.status == RunStatus.EXPIRED and "No worker started it" in stale.status_reason
    assert not Notification.objects.exists()
    fresh, created = services.receiver_check_start(owner=producer, configuration=configuration)
    assert created


def test_a_check_runs_once_however_many_messages_bring_it(producer):
    with Receiver(producer.webhook_account.hottok) as receiver:
        run, _ = services.receiver_check_start(owner=producer, url=receiver.url, enqueue=False)
        assert services.receiver_check_run(check_id=run.pk) == Grade.PASS
        assert services.receiver_check_run(check_id=run.pk) == "skipped"  # a duplicate message
        assert len(receiver.caught) == 35


def test_production_mode_refuses_private_urls_and_guards_every_post(producer, settings):
    settings.DISPATCHER = {**settings.DISPATCHER, "MODE": "production"}
    with pytest.raises(ValidationError, match="public address"):
        services.receiver_check_start(owner=producer, url="http://127.0.0.1:9/hook")
    with pytest.raises(ValidationError, match="public address"):
        services.receiver_check_start(owner=producer, url="http://localhost/hook")

    # A configuration saved before the switch to production still cannot reach a private address.
    with Receiver(producer.webhook_account.hottok) as receiver:
        configuration = ConfigurationFactory(owner=producer, url=receiver.url, events=["PURCHASE_APPROVED"])
        run, _ = services.receiver_check_start(owner=producer, configuration=configuration, enqueue=False)
        services.receiver_check_run(check_id=run.pk)
        assert receiver.caught == []
    approved = run.results.get(key="event:PURCHASE_APPROVED")
    assert approved.grade == Grade.FAIL and "production mode" in approved.summary
    assert {a["error_kind"] for r in run.results.all() for a in r.answers} == {"blocked_address"}


def test_old_checks_are_pruned_beyond_the_newest_hundred(producer):
    now = timezone.now()
    ReceiverCheck.objects.bulk_create(
        [
            ReceiverCheck(
                owner=producer,
                url="http://127.0.0.1:9/old",
                target_key=f"url:old:{n}",
                status=RunStatus.DONE,
                connect_timeout=1,
                read_timeout=1,
                total_timeout=1,
                max_response_bytes=1,
                created_at=now - timedelta(minutes=200 - n),
                start_by=now,
                deadline_at=now,
            )
            for n in range(services.KEEP + 5)
        ]
    )
    newest, _ = services.receiver_check_start(owner=producer, url="http://127.0.0.1:9/new")
    kept = ReceiverCheck.objects.filter(owner=producer)
    assert kept.count() == services.KEEP and kept.filter(pk=newest.pk).exists()
