"""The purchase lifecycle: every legal move emits its event, every illegal one is refused naming the allowed
ones, and moves that wait for a moment (the warranty's end, the billet's due date) happen now as a
fast-forward, or at that moment when scheduled."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from history.models import Event, Notification
from history.publishing import notification_resend
from sales import lifecycle
from sales.lifecycle import PaymentType, PurchaseStatus, SubscriptionStatus
from sales.models import Purchase
from sales.services import subscription_renew, transaction_create, transaction_transition
from tests.sales.conftest import path_to, reach, reachable

LEGAL = [(rule, payment) for rule in lifecycle.TRANSITIONS for payment in sorted(rule.payments)]
ILLEGAL = [
    (status, payment, target)
    for status, payment in reachable()
    for target in PurchaseStatus.values
    if lifecycle.rule_for(status, target, payment) is None
]


def test_the_table_is_consistent():
    assert lifecycle.FINAL == {
        PurchaseStatus.CANCELED,
        PurchaseStatus.EXPIRED,
        PurchaseStatus.REFUNDED,
        PurchaseStatus.CHARGEBACK,
    }
    assert set(lifecycle.EVENT_FOR_STATUS) == set(PurchaseStatus.values)
    # every status is reachable by some payment type, and every rule's source too
    assert {s for s, _ in reachable()} == set(PurchaseStatus.values)
    for rule in lifecycle.TRANSITIONS:
        for payment in rule.payments:
            assert (rule.source, payment) in reachable(), f"{rule} can never happen to a {payment} purchase"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("refunded", "REFUNDED"),
        ("REFUNDED", "REFUNDED"),
        ("refund", "REFUNDED"),
        ("PURCHASE_REFUNDED", "REFUNDED"),
        ("PURCHASE_PROTEST", "DISPUTE"),
        ("dispute", "DISPUTE"),
        ("complete", "COMPLETED"),
        ("PURCHASE_COMPLETE", "COMPLETED"),
        ("approve", "APPROVED"),
        ("billet-printed", "BILLET_PRINTED"),
        ("exploded", None),
    ],
)
def test_what_people_type_names_a_status(text, status):
    assert lifecycle.status_parse(text) == status


@pytest.mark.parametrize(
    ("payment", "refused", "status", "event"),
    [
        (PaymentType.CREDIT_CARD, False, "APPROVED", "PURCHASE_APPROVED"),
        (PaymentType.CREDIT_CARD, True, "CANCELED", "PURCHASE_CANCELED"),
        (PaymentType.BILLET, False, "BILLET_PRINTED", "PURCHASE_BILLET_PRINTED"),
        (PaymentType.PIX, False, "BILLET_PRINTED", "PURCHASE_BILLET_PRINTED"),
    ],
)
def test_a_purchase_starts_where_its_payment_type_says(producer, course, listener, payment, refused, status, event):
    outcome = transaction_create(owner=producer, product=course, payment_type=payment, refused=refused)

    assert outcome.purchase.status == status
    assert outcome.event.event_type == event
    [notification] = outcome.notifications
    assert json.loads(notification.payload)["data"]["purchase"]["status"] == status


@pytest.mark.parametrize(("rule", "payment"), LEGAL, ids=lambda v: getattr(v, "event", v))
def test_every_legal_move_emits_its_event(producer, course, club, listener, rule, payment):
    purchase = reach(producer, course, club, rule.source, payment)
    before = Event.objects.count()

    outcome = transaction_transition(owner=producer, transaction=purchase.transaction, to=rule.target)

    assert outcome.purchase.status == rule.target
    assert Purchase.objects.get(pk=purchase.pk).status == rule.target
    assert Event.objects.count() == before + 1
    assert outcome.event.event_type == rule.event
    assert outcome.event.transaction == purchase.transaction
    [notification] = outcome.notifications
    data = json.loads(notification.payload)["data"]
    assert data["purchase"]["status"] == rule.target
    assert data["purchase"]["transaction"] == purchase.transaction
    assert data["purchase"]["payment"]["type"] == payment
    assert outcome.event.occurred_at >= purchase.last_event_at


@pytest.mark.parametrize(("status", "payment", "target"), ILLEGAL)
def test_every_illegal_move_is_refused_naming_the_allowed_ones(
    producer, course, club, listener, status, payment, target
):
    purchase = reach(producer, course, club, status, payment)
    events, notifications = Event.objects.count(), Notification.objects.count()

    with pytest.raises(ValidationError) as caught:
        transaction_transition(owner=producer, transaction=purchase.transaction, to=target)

    message = " ".join(caught.value.message_dict["to"])
    assert purchase.transaction in message and f"is {status}" in message
    allowed = lifecycle.rules_from(status, payment)
    if allowed:
        assert f"cannot become {target}" in message
        for rule in allowed:
            assert rule.target in message.split("Allowed:")[1]
    else:
        assert "final status" in message
    assert Purchase.objects.get(pk=purchase.pk).status == status
    assert (Event.objects.count(), Notification.objects.count()) == (events, notifications)


def test_an_unknown_target_is_refused(producer, course):
    purchase = transaction_create(owner=producer, product=course).purchase
    with pytest.raises(ValidationError) as caught:
        transaction_transition(owner=producer, transaction=purchase.transaction, to="exploded")
    assert "Unknown status 'exploded'" in caught.value.message_dict["to"][0]


def test_another_producers_transaction_is_not_found(producer, course):
    from tests.factories import UserFactory

    purchase = transaction_create(owner=producer, product=course).purchase
    with pytest.raises(ValidationError) as caught:
        transaction_transition(owner=UserFactory(), transaction=purchase.transaction, to="refunded")
    assert "No transaction" in caught.value.message_dict["transaction"][0]


# --- Time ---------------------------------------------------------------------------------------------------


def test_completing_before_the_warranty_ends_is_made_now_and_says_when_it_really_happens(producer, course):
    purchase = transaction_create(owner=producer, product=course).purchase
    assert purchase.warranty_until > timezone.now() + timedelta(days=6)

    before = timezone.now()
    outcome = transaction_transition(owner=producer, transaction=purchase.transaction, to="completed")

    assert before <= outcome.event.occurred_at <= timezone.now(), "a fast-forward: dated now, sent now"
    assert outcome.purchase.warranty_until == purchase.warranty_until, "the sale's own dates are unchanged"
    [note] = outcome.notes
    assert "before its real moment" in note and purchase.warranty_until.strftime("%Y-%m-%dT%H:%M:%SZ") in note
    later = transaction_transition(owner=producer, transaction=purchase.transaction, to="chargeback")
    assert later.event.occurred_at >= outcome.event.occurred_at, "the story's clock never goes back"
    assert later.notes == []


def test_a_scheduled_completion_is_dated_at_the_warranty_end_and_waits_for_it(
    producer, course, listener, django_capture_on_commit_callbacks
):
    purchase = transaction_create(owner=producer, product=course).purchase

    with django_capture_on_commit_callbacks() as rung:
        outcome = transaction_transition(
            owner=producer, transaction=purchase.transaction, to="completed", schedule=True
        )

    assert outcome.event.occurred_at == purchase.warranty_until
    [note] = outcome.notes
    assert "PURCHASE_COMPLETE is scheduled" in note and "Pending post" in note
    [notification] = outcome.notifications
    assert notification.next_attempt_at == purchase.warranty_until, "sent at the moment it is dated"
    assert rung == [], "no doorbell rings for a week ahead: the sweep rings when it is due"
    assert json.loads(notification.payload)["creation_date"] == int(purchase.warranty_until.timestamp() * 1000)
    # what follows it in the story follows it in time too: never sent before its own date
    chargeback = transaction_transition(owner=producer, transaction=purchase.transaction, to="chargeback")
    assert chargeback.event.occurred_at == purchase.warranty_until
    assert chargeback.notifications[0].next_attempt_at == purchase.warranty_until


def test_a_moment_and_scheduling_are_not_asked_together(producer, course):
    purchase = transaction_create(owner=producer, product=course).purchase
    with pytest.raises(ValidationError) as caught:
        transaction_transition(
            owner=producer, transaction=purchase.transaction, to="completed", at=timezone.now(), schedule=True
        )
    assert "not both" in caught.value.message_dict["schedule"][0]
    assert Purchase.objects.get(pk=purchase.pk).status == PurchaseStatus.APPROVED


def test_completing_at_a_moment_before_the_warranty_ends_is_refused(producer, course):
    purchase = transaction_create(owner=producer, product=course).purchase
    with pytest.raises(ValidationError) as caught:
        transaction_transition(
            owner=producer, transaction=purchase.transaction, to="completed", at=timezone.now() + timedelta(days=1)
        )
    assert "once the warranty ends" in caught.value.message_dict["at"][0]
    assert Purchase.objects.get(pk=purchase.pk).status == PurchaseStatus.APPROVED


def test_a_refund_request_is_possible_until_the_warranty_ends(producer, course):
    purchase = transaction_create(owner=producer, product=course).purchase
    after = purchase.warranty_until + timedelta(hours=1)
    with pytest.raises(ValidationError) as caught:
        transaction_transition(owner=producer, transaction=purchase.transaction, to="dispute", at=after)
    assert "until the warranty ends" in caught.value.message_dict["at"][0]
    dispute = transaction_transition(owner=producer, transaction=purchase.transaction, to="dispute")
    assert dispute.purchase.status == PurchaseStatus.DISPUTE
    back = transaction_transition(owner=producer, transaction=purchase.transaction, to="approved")
    assert back.purchase.status == PurchaseStatus.APPROVED
    assert back.purchase.approved_at == purchase.approved_at, "a refused refund request keeps the sale as it was"


def test_a_billet_goes_overdue_at_its_due_date_when_scheduled_or_now_as_a_fast_forward(producer, course):
    purchase = transaction_create(owner=producer, product=course, payment_type="billet").purchase
    assert purchase.payment_due_at > timezone.now() + timedelta(days=3)
    with pytest.raises(ValidationError) as caught:
        transaction_transition(owner=producer, transaction=purchase.transaction, to="delayed", at=timezone.now())
    assert "once the payment is due" in caught.value.message_dict["at"][0], "an explicit moment tells the story"

    scheduled = transaction_transition(owner=producer, transaction=purchase.transaction, to="delayed", schedule=True)

    assert scheduled.event.occurred_at == purchase.payment_due_at
    paid = transaction_transition(owner=producer, transaction=purchase.transaction, to="approved")
    assert paid.purchase.approved_at == scheduled.event.occurred_at
    assert paid.purchase.warranty_until > paid.purchase.approved_at

    other = transaction_create(owner=producer, product=course, payment_type="billet").purchase
    now = transaction_transition(owner=producer, transaction=other.transaction, to="delayed")
    assert now.event.occurred_at < other.payment_due_at and "the payment's due date" in now.notes[0]


def test_a_renewal_is_charged_now_or_scheduled_on_its_charge_date(producer, club, listener):
    subscription = transaction_create(owner=producer, product=club).subscription
    charge_date = subscription.date_next_charge

    now = subscription_renew(owner=producer, subscriber_code=subscription.subscriber_code)
    assert now.event.occurred_at < charge_date and "its charge date" in now.notes[0]

    later = subscription_renew(owner=producer, subscriber_code=subscription.subscriber_code, schedule=True)
    assert later.event.occurred_at == now.subscription.date_next_charge > charge_date
    assert later.purchase.ordered_at == later.purchase.approved_at == later.event.occurred_at
    assert all(n.next_attempt_at == later.event.occurred_at for n in later.notifications)
    with pytest.raises(ValidationError) as caught:
        subscription_renew(
            owner=producer, subscriber_code=subscription.subscriber_code, schedule=True, at=timezone.now()
        )
    assert "not both" in caught.value.message_dict["schedule"][0]


def test_a_scheduled_notification_is_not_resent_before_its_moment(producer, course, listener):
    purchase = transaction_create(owner=producer, product=course).purchase
    outcome = transaction_transition(owner=producer, transaction=purchase.transaction, to="completed", schedule=True)
    [notification] = outcome.notifications

    with pytest.raises(ValidationError) as caught:
        notification_resend(owner=producer, notification_id=notification.pk)

    assert "scheduled" in caught.value.message_dict["notification"][0]
    assert Notification.objects.get(pk=notification.pk).resend_requested_at is None


def test_a_moment_before_the_previous_event_is_refused(producer, course):
    purchase = transaction_create(owner=producer, product=course).purchase
    with pytest.raises(ValidationError) as caught:
        transaction_transition(
            owner=producer, transaction=purchase.transaction, to="refunded", at=purchase.last_event_at - timedelta(1)
        )
    assert "is earlier" in caught.value.message_dict["at"][0]


# --- Subscriptions follow their purchases -------------------------------------------------------------------


def test_a_subscription_follows_its_purchases(producer, club):
    first = transaction_create(owner=producer, product=club, payment_type="billet")
    assert first.subscription.status == SubscriptionStatus.STARTED
    paid = transaction_transition(owner=producer, transaction=first.purchase.transaction, to="approved")
    assert paid.subscription.status == SubscriptionStatus.ACTIVE
    refunded = transaction_transition(owner=producer, transaction=first.purchase.transaction, to="refunded")
    assert refunded.subscription.status == SubscriptionStatus.INACTIVE


def test_a_refused_card_renewal_delays_the_subscription_until_paid(producer, club):
    first = transaction_create(owner=producer, product=club)
    code = first.subscription.subscriber_code
    late = subscription_renew(owner=producer, subscriber_code=code, refused=True)
    assert (late.purchase.status, late.subscription.status) == (PurchaseStatus.DELAYED, SubscriptionStatus.DELAYED)
    assert late.event.event_type == "PURCHASE_DELAYED" and late.purchase.refusal_reason
    paid = transaction_transition(owner=producer, transaction=late.purchase.transaction, to="approved")
    assert paid.subscription.status == SubscriptionStatus.ACTIVE


def test_the_shortest_paths_are_legal():
    assert path_to(PurchaseStatus.COMPLETED, PaymentType.PIX) == ["BILLET_PRINTED", "APPROVED", "COMPLETED"]
    assert path_to(PurchaseStatus.CHARGEBACK, PaymentType.BILLET) is None


def test_the_documented_table_is_the_machine_the_code_runs():
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "lifecycle.md").read_text()
    names = {"card": "CREDIT_CARD", "billet": "BILLET", "PIX": "PIX"}
    moments = {"": (None, None), "really at the payment's due date": (lifecycle.PAYMENT_DUE, None)}
    moments |= {
        "really at the warranty's end": (lifecycle.WARRANTY_END, None),
        "until the warranty's end": (None, lifecycle.WARRANTY_END),
    }
    documented = set()
    section = text.split("## The moves", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 6 or cells[0] in ("from", "---"):
            continue
        source, target, event, payments, when, meaning = cells
        not_before, until = moments[when]
        documented.add(
            (
                source,
                target,
                event.strip("`"),
                frozenset(names[p.strip()] for p in payments.split(",")),
                not_before,
                until,
                meaning,
            )
        )
    running = {
        (r.source, r.target, r.event, r.payments, r.not_before, r.until, r.meaning) for r in lifecycle.TRANSITIONS
    }
    assert documented == running
    diagram = text.split("```mermaid", 1)[1].split("```", 1)[0]
    for rule in lifecycle.TRANSITIONS:
        assert f"{rule.source} --> {rule.target}" in diagram
