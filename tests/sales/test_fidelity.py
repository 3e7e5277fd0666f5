"""Fidelity, through the real pipeline: what a receiver on 127.0.0.1 gets from the real worker is never dated
after it was sent, and is shaped like Hotmart's production webhooks of 2025.

The receiver is a strict one (``tests/strict_receiver.py``): it refuses, with 401, a webhook created in its
future or more than five minutes before its clock, as receivers that defend against replays do. Every story
here must be accepted by it at the first attempt.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from werkzeug import Response

from catalogue.events import PURCHASE_EVENTS, EventType
from catalogue.facts import PIX_HOURS
from configurations.services import configuration_create
from history.choices import OPEN_STATUSES, NotificationStatus
from history.models import Notification
from history.publishing import configuration_test_post, event_record
from sales import lifecycle
from sales.services import (
    cart_abandon,
    member_first_access,
    member_module_complete,
    subscription_cancel,
    subscription_change_charge_day,
    subscription_renew,
    subscription_switch_plan,
    transaction_create,
    transaction_transition,
)
from tests.conftest import wait_until
from tests.engine.test_delivery import final, requests_to
from tests.payload_checks import assert_tells_a_consistent_story, billet_due_date, created_ms
from tests.sales.conftest import reach
from tests.strict_receiver import StrictReceiver

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def strict(httpserver, producer):
    """A strict receiver, and a configuration of the producer sending it every event."""
    receiver = StrictReceiver(httpserver)
    configuration_create(owner=producer, name="strict", events=EventType.values, url=receiver.url)
    return receiver


def all_delivered(owner) -> list[Notification]:
    """Wait until none of the owner's notifications is open; answer them all."""
    wait_until(
        lambda: not Notification.objects.filter(owner=owner, status__in=OPEN_STATUSES).exists(),
        timeout=60,
        message="every notification to be settled",
    )
    return list(Notification.objects.filter(owner=owner).order_by("id"))


def assert_accepted_at_once(owner, receiver: StrictReceiver) -> list[dict]:
    """Every notification delivered at its first attempt; every body received no earlier than it is dated and
    telling a consistent story. Answers the bodies."""
    notifications = all_delivered(owner)
    assert {(n.status, n.attempt_count) for n in notifications} == {(NotificationStatus.DELIVERED, 1)}, [
        (n.event_type, n.status, n.attempt_count, n.last_status_code) for n in notifications if n.attempt_count != 1
    ]
    arrivals = receiver.arrivals
    assert len(arrivals) == len(notifications)
    for arrival in arrivals:
        assert created_ms(arrival.payload) <= arrival.at_ms, f"{arrival.payload['event']} dated after it arrived"
        assert_tells_a_consistent_story(arrival.payload)
    return [arrival.payload for arrival in arrivals]


# --- 1. Every webhook fresh when sent -------------------------------------------------------------------------


def test_a_billet_paid_late_and_a_completed_card_purchase_are_fresh_at_every_step(stack, strict, producer, course):
    billet = transaction_create(owner=producer, product=course, payment_type="billet").purchase
    for to in ("delayed", "approved", "completed"):
        transaction_transition(owner=producer, transaction=billet.transaction, to=to)
    card = transaction_create(owner=producer, product=course).purchase
    for to in ("completed", "chargeback"):
        transaction_transition(owner=producer, transaction=card.transaction, to=to)

    bodies = assert_accepted_at_once(producer, strict)

    story = ["PURCHASE_BILLET_PRINTED", "PURCHASE_DELAYED", "PURCHASE_APPROVED", "PURCHASE_COMPLETE"]
    of_billet = {b["event"]: b for b in bodies if b["data"]["purchase"]["transaction"] == billet.transaction}
    assert sorted(of_billet) == sorted(story)
    dates = [created_ms(of_billet[event]) for event in story]
    assert dates == sorted(dates), "dated in the story's order"
    complete = strict.body_of("PURCHASE_COMPLETE", billet.transaction)
    approved = strict.body_of("PURCHASE_APPROVED", billet.transaction)
    # made before the warranty's end, the completion keeps the sale's dates: the same warranty, the same approval
    assert complete["data"]["product"]["warranty_date"] == approved["data"]["product"]["warranty_date"]
    assert complete["data"]["purchase"]["approved_date"] == approved["data"]["purchase"]["approved_date"]
    completed = strict.body_of("PURCHASE_COMPLETE", card.transaction)
    assert created_ms(strict.body_of("PURCHASE_CHARGEBACK")) >= created_ms(completed), "the story's order"


def test_a_scheduled_move_waits_in_pending_posts_and_is_sent_at_its_moment(stack, httpserver, producer, course, web):
    receiver = StrictReceiver(httpserver)
    configuration_create(owner=producer, name="expiries", events=["PURCHASE_EXPIRED"], url=receiver.url)
    # a PIX issued almost a day ago: it expires in a few seconds
    issued = timezone.now() - timedelta(hours=PIX_HOURS) + timedelta(seconds=6)
    purchase = transaction_create(owner=producer, product=course, payment_type="pix", at=issued).purchase

    outcome = transaction_transition(owner=producer, transaction=purchase.transaction, to="expired", schedule=True)

    [notification] = outcome.notifications
    assert outcome.event.occurred_at == purchase.payment_due_at > timezone.now()
    assert (notification.status, notification.next_attempt_at) == (NotificationStatus.PENDING, purchase.payment_due_at)
    assert reverse("history:detail", args=[notification.pk]) in web.get(reverse("history:pending")).content.decode()
    done = final(notification)
    assert (done.status, done.attempt_count) == (NotificationStatus.DELIVERED, 1)
    [arrival] = receiver.arrivals
    assert created_ms(arrival.payload) == int(purchase.payment_due_at.timestamp() * 1000) <= arrival.at_ms
    assert_tells_a_consistent_story(arrival.payload)


def test_a_retry_keeps_the_events_creation_date(stack, httpserver, producer, course):
    answers = iter([Response("busy", status=503)])
    httpserver.expect_request("/flaky").respond_with_handler(lambda _request: next(answers, Response("ok")))
    configuration_create(owner=producer, name="flaky", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/flaky"))

    [notification] = transaction_create(owner=producer, product=course).notifications
    done = final(notification)

    assert (done.status, done.attempt_count) == (NotificationStatus.DELIVERED, 2)
    first, second = (r.get_data() for r in requests_to(httpserver, "/flaky"))
    assert first == second, "the same bytes: the same id and creation_date, as Hotmart retries"


# --- 2. Shaped like production --------------------------------------------------------------------------------


def test_single_purchases_carry_invoice_by_and_no_recurrence(stack, strict, producer, course):
    approved = transaction_create(owner=producer, product=course).purchase
    refused = transaction_create(owner=producer, product=course, refused=True).purchase

    assert_accepted_at_once(producer, strict)

    for event, purchase in (("PURCHASE_APPROVED", approved), ("PURCHASE_CANCELED", refused)):
        body = strict.body_of(event, purchase.transaction)["data"]["purchase"]
        assert (body["invoice_by"], body["subscription_anticipation_purchase"]) == ("HOTMART", False)
        assert "date_next_charge" not in body and "recurrence_number" not in body


def test_what_production_never_sends_is_left_out(stack, strict, producer, course):
    billet = transaction_create(owner=producer, product=course, payment_type="billet").purchase
    transaction_transition(owner=producer, transaction=billet.transaction, to="delayed")
    transaction_transition(owner=producer, transaction=billet.transaction, to="expired")
    refused = transaction_create(owner=producer, product=course, refused=True).purchase
    plain = transaction_create(owner=producer, product=course, src="ads").purchase
    coupon = transaction_create(owner=producer, product=course, coupon_code="BLACK10", xcod="crm-42").purchase

    assert_accepted_at_once(producer, strict)

    for event, purchase in (
        ("PURCHASE_BILLET_PRINTED", billet),
        ("PURCHASE_DELAYED", billet),
        ("PURCHASE_CANCELED", refused),
    ):
        assert "warranty_date" not in strict.body_of(event, purchase.transaction)["data"]["product"], event
    for event in ("PURCHASE_DELAYED", "PURCHASE_EXPIRED"):
        assert "approved_date" not in strict.body_of(event, billet.transaction)["data"]["purchase"], event
    assert "date_next_charge" not in strict.body_of("PURCHASE_CANCELED", refused.transaction)["data"]["purchase"]
    unused = strict.body_of("PURCHASE_APPROVED", plain.transaction)["data"]["purchase"]
    assert unused["offer"] == {"code": plain.offer_code}, "no coupon used: no coupon_code"
    assert unused["origin"] == {"src": "ads", "sck": ""}, "no xcod given: no xcod"
    used = strict.body_of("PURCHASE_APPROVED", coupon.transaction)["data"]["purchase"]
    assert used["offer"]["coupon_code"] == "BLACK10" and used["origin"]["xcod"] == "crm-42"
    assert "warranty_date" in strict.body_of("PURCHASE_APPROVED", plain.transaction)["data"]["product"]


def test_update_subscription_charge_date_is_spelled_as_production_and_its_test_post_as_the_test_button(
    stack, strict, producer, club
):
    subscription = transaction_create(owner=producer, product=club).subscription
    subscription_change_charge_day(owner=producer, subscriber_code=subscription.subscriber_code, day=3)
    configuration = producer.configurations.get(name="strict")
    test = configuration_test_post(
        owner=producer, configuration=configuration, event_type=EventType.UPDATE_SUBSCRIPTION_CHARGE_DATE
    )

    assert_accepted_at_once(producer, strict)

    real, tested = strict.bodies("UPDATE_SUBSCRIPTION_CHARGE_DATE")
    if tested["data"]["subscriber"]["code"] == subscription.subscriber_code:
        real, tested = tested, real
    assert "creation_date" in real and "creationDate" not in real
    assert "creationDate" in tested and "creation_date" not in tested
    assert Notification.objects.get(pk=test.pk).is_test


def test_a_paid_renewal_drops_its_refusal_and_a_refused_subscription_has_no_next_charge(stack, strict, producer, club):
    subscription = transaction_create(owner=producer, product=club).subscription
    late = subscription_renew(owner=producer, subscriber_code=subscription.subscriber_code, refused=True).purchase
    transaction_transition(owner=producer, transaction=late.transaction, to="approved")
    never = transaction_create(owner=producer, product=club, refused=True).purchase

    assert_accepted_at_once(producer, strict)

    delayed = strict.body_of("PURCHASE_DELAYED", late.transaction)["data"]["purchase"]
    paid = strict.body_of("PURCHASE_APPROVED", late.transaction)["data"]["purchase"]
    assert delayed["payment"]["refusal_reason"] and "refusal_reason" not in paid["payment"]
    assert paid["recurrence_number"] == 2 and paid["date_next_charge"] > paid["approved_date"]
    canceled = strict.body_of("PURCHASE_CANCELED", never.transaction)["data"]
    assert canceled["purchase"]["payment"]["refusal_reason"] and "date_next_charge" not in canceled["purchase"]
    assert canceled["subscription"]["status"] == "INACTIVE"


def test_the_checkout_phone_is_whole_and_the_same_number_in_every_event(stack, strict, producer, club):
    subscription = transaction_create(owner=producer, product=club).subscription
    subscription_cancel(owner=producer, subscriber_code=subscription.subscriber_code)

    assert_accepted_at_once(producer, strict)

    buyer = strict.body_of("PURCHASE_APPROVED")["data"]["buyer"]
    phone = strict.body_of("SUBSCRIPTION_CANCELLATION")["data"]["subscriber"]["phone"]
    assert len(buyer["checkout_phone"]) == 11, "area code and number, as in Hotmart's sample"
    assert buyer["checkout_phone"] == phone["dddCell"] + phone["cell"], "one buyer, one number"


@pytest.mark.parametrize("product_name", ["course", "club"])
def test_one_off_samples_are_consistent_sales_in_the_state_their_event_describes(
    stack, strict, producer, product_name, request
):
    product = request.getfixturevalue(product_name)
    for event_type in sorted(PURCHASE_EVENTS):
        event_record(owner=producer, event_type=event_type, product=product)

    assert_accepted_at_once(producer, strict)

    for event_type in ("PURCHASE_DELAYED", "PURCHASE_EXPIRED"):
        body = strict.body_of(event_type)
        payment = body["data"]["purchase"]["payment"]
        assert payment["type"] == "BILLET" and "approved_date" not in body["data"]["purchase"], event_type
        due = billet_due_date(payment["billet_barcode"])  # the day it is overdue from
        assert due <= datetime.fromtimestamp(created_ms(body) / 1000, tz=UTC).date(), f"{event_type}: not due yet"
    complete = strict.body_of("PURCHASE_COMPLETE")
    assert complete["data"]["purchase"]["approved_date"] < created_ms(complete)
    assert "warranty_date" not in strict.body_of("PURCHASE_CANCELED")["data"]["product"]


# --- 3. Every legal move, every body --------------------------------------------------------------------------


def test_every_legal_move_of_every_payment_type_and_subscription_sends_fresh_consistent_bodies(
    stack, strict, producer, course, club
):
    # every move of the machine, each from a transaction brought to its source by legal moves
    for rule in lifecycle.TRANSITIONS:
        for payment in sorted(rule.payments):
            purchase = reach(producer, course, club, rule.source, payment)
            transaction_transition(owner=producer, transaction=purchase.transaction, to=rule.target)
    # the starts the machine has no move into, and what the sale's options change
    transaction_create(owner=producer, product=course, refused=True)
    transaction_create(owner=producer, product=course, coupon_code="PROMO", src="ads", sck="mail", xcod="x1")
    # a subscriber's life, for each payment type
    card = transaction_create(owner=producer, product=club, plan="quarterly")
    code = card.subscription.subscriber_code
    subscription_renew(owner=producer, subscriber_code=code)
    late = subscription_renew(owner=producer, subscriber_code=code, refused=True).purchase
    transaction_transition(owner=producer, transaction=late.transaction, to="approved")
    subscription_switch_plan(owner=producer, subscriber_code=code, plan="yearly")
    subscription_change_charge_day(owner=producer, subscriber_code=code, day=28)
    member_first_access(owner=producer, transaction=card.purchase.transaction)
    member_module_complete(owner=producer, transaction=card.purchase.transaction)
    subscription_cancel(owner=producer, subscriber_code=code, by="seller")
    for payment, moves in (("billet", ["expired"]), ("pix", ["approved", "refunded"])):
        first = transaction_create(owner=producer, product=club, payment_type=payment)
        transaction_transition(owner=producer, transaction=first.purchase.transaction, to="approved")
        renewal = subscription_renew(owner=producer, subscriber_code=first.subscription.subscriber_code).purchase
        for to in moves:
            transaction_transition(owner=producer, transaction=renewal.transaction, to=to)
    cart_abandon(owner=producer, product=course, buyer_phone="21987654321")

    bodies = assert_accepted_at_once(producer, strict)

    assert {body["event"] for body in bodies} == set(EventType.values), "every event type was walked"
    assert "creation_date" in strict.body_of("UPDATE_SUBSCRIPTION_CHARGE_DATE"), "spelled as production spells it"
    assert len(bodies) > 2 * len(lifecycle.TRANSITIONS)
