"""The simulator's actions: what each records, the payment fields as Hotmart fills them, subscriptions, carts,
the members area, and field-level errors that save nothing."""

from __future__ import annotations

import binascii
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalogue import PayloadContext, payload_build, payload_form
from catalogue.events import PURCHASE_EVENTS, EventType
from configurations.services import configuration_create
from history.models import Event, Notification
from history.publishing import notification_body
from sales.lifecycle import PurchaseStatus, SubscriptionStatus
from sales.models import Purchase, Subscription
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
from tests.factories import UserFactory
from tests.payload_checks import assert_documented, assert_form_documented, assert_matches_sample


def data_of(outcome) -> dict:
    [notification] = outcome.notifications
    return json.loads(notification.payload)["data"]


def nothing_saved():
    return Purchase.objects.count() == 0 and Subscription.objects.count() == 0 and Event.objects.count() == 0


# --- Bad input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"payment_type": "cheque"}, "payment_type"),
        ({"payment_type": "billet", "refused": True}, "refused"),
        ({"payment_type": "pix", "installments": 3}, "installments"),
        ({"installments": 13}, "installments"),
        ({"installments": 0}, "installments"),
        ({"installments": "3"}, "installments"),
        ({"buyer_email": "not-an-email"}, "buyer_email"),
        ({"buyer_name": "x" * 256}, "buyer_name"),
        ({"affiliate_code": "Q00000000Z"}, "affiliate_code"),
        ({"plan": "yearly"}, "plan"),
        ({"coupon_code": "c" * 51}, "coupon_code"),
        ({"xcod": "x" * 256}, "xcod"),
        ({"at": datetime(2026, 1, 1)}, "at"),
    ],
)
def test_bad_input_to_a_new_purchase_names_the_field_and_saves_nothing(producer, course, listener, kwargs, field):
    with pytest.raises(ValidationError) as caught:
        transaction_create(owner=producer, product=course, **kwargs)
    assert field in caught.value.message_dict
    assert nothing_saved() and Notification.objects.count() == 0


def test_an_unknown_plan_and_another_owners_product_are_refused(producer, club):
    with pytest.raises(ValidationError) as caught:
        transaction_create(owner=producer, product=club, plan="weekly")
    assert "monthly, quarterly, yearly" in caught.value.message_dict["plan"][0]
    with pytest.raises(ValidationError) as caught:
        transaction_create(owner=UserFactory(), product=club)
    assert "does not belong" in caught.value.message_dict["product"][0]
    with pytest.raises(ValidationError) as caught:
        transaction_create(owner=UserFactory())
    assert "has no product" in caught.value.message_dict["product"][0]
    assert nothing_saved()


# --- Payment types ------------------------------------------------------------------------------------------


def test_a_card_purchase_in_installments_pays_interest(producer, course, listener):
    outcome = transaction_create(owner=producer, product=course, installments=12, buyer_email="ana@example.com")

    purchase = outcome.purchase
    assert purchase.price == Decimal("197.00") and purchase.full_price > purchase.price
    data = data_of(outcome)
    assert data["purchase"]["payment"] == {"installments_number": 12, "type": "CREDIT_CARD"}
    assert data["purchase"]["price"]["value"] == 197
    assert data["purchase"]["full_price"]["value"] == float(purchase.full_price)
    assert data["purchase"]["approved_date"] == int(purchase.approved_at.timestamp() * 1000)
    assert data["buyer"]["email"] == "ana@example.com"


def test_a_refused_card_says_why_and_has_no_approval(producer, course, listener):
    outcome = transaction_create(owner=producer, product=course, refused=True)

    data = data_of(outcome)
    assert data["purchase"]["status"] == "CANCELED"
    assert data["purchase"]["payment"]["refusal_reason"] == outcome.purchase.refusal_reason != ""
    assert "approved_date" not in data["purchase"]


def test_a_billet_purchase_carries_its_link_and_typeable_line(producer, course, listener):
    outcome = transaction_create(owner=producer, product=course, payment_type="boleto")

    purchase = outcome.purchase
    payment = data_of(outcome)["purchase"]["payment"]
    assert payment["type"] == "BILLET" and payment["installments_number"] == 1
    assert payment["billet_url"].endswith(purchase.transaction)
    line = payment["billet_barcode"]
    digits = line.replace(".", "").replace(" ", "")
    assert len(digits) == 47 and digits.isdigit()
    # the last group is the due date factor and the amount in cents
    due_factor = (purchase.payment_due_at.date() - date(1997, 10, 7)).days
    due_factor = due_factor if due_factor <= 9999 else (due_factor - 10000) % 9000 + 1000
    assert line.split(" ")[-1] == f"{due_factor:04d}{19700:010d}"
    assert "approved_date" not in data_of(outcome)["purchase"]
    assert purchase.payment_due_at > timezone.now() + timedelta(days=3)


def test_a_pix_purchase_carries_a_valid_br_code_and_its_expiry(producer, course, listener):
    outcome = transaction_create(owner=producer, product=course, payment_type="pix")

    payment = data_of(outcome)["purchase"]["payment"]
    code = payment["pix_code"]
    assert code.startswith("000201") and "br.gov.bcb.pix" in code and "5303986" in code
    assert "5406197.00" in code, "the amount"
    body, crc = code[:-4], code[-4:]
    assert body.endswith("6304")
    assert crc == f"{binascii.crc_hqx(body.encode(), 0xFFFF):04X}", "CRC-16/CCITT-FALSE as the BR Code requires"
    assert payment["pix_qrcode"].startswith("https://")
    assert payment["pix_expiration_date"] == int(outcome.purchase.payment_due_at.timestamp() * 1000)
    assert "billet_url" not in payment


def test_a_coupon_and_tracking_codes_show_in_the_payload(producer, course, listener):
    outcome = transaction_create(
        owner=producer, product=course, coupon_code="BLACKFRIDAY", src="newsletter", sck="email_1", xcod="user-42"
    )

    purchase = data_of(outcome)["purchase"]
    assert purchase["offer"]["coupon_code"] == "BLACKFRIDAY"
    assert purchase["price"]["value"] == pytest.approx(177.30)
    assert purchase["original_offer_price"]["value"] == 197
    assert purchase["origin"] == {"src": "newsletter", "sck": "email_1", "xcod": "user-42"}
    assert purchase["sckPaymentLink"] == "email_1"
    plain = data_of(transaction_create(owner=producer, product=course))["purchase"]
    assert "origin" not in plain


# --- Subscriptions ------------------------------------------------------------------------------------------


def test_a_subscription_purchase_carries_the_subscription_and_recurrence_fields(producer, club, listener):
    at = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    outcome = transaction_create(owner=producer, product=club, plan="quarterly", at=at)

    subscription = outcome.subscription
    assert subscription.status == SubscriptionStatus.ACTIVE and subscription.charge_day == 31
    assert subscription.date_next_charge == datetime(2026, 6, 30, 12, 0, tzinfo=UTC), "clamped to June's last day"
    data = data_of(outcome)
    assert data["subscription"] == {
        "status": "ACTIVE",
        "plan": {"id": club.hotmart_id * 10 + 1, "name": f"Plano Trimestral - {club.name}"},
        "subscriber": {"code": subscription.subscriber_code},
    }
    purchase = data["purchase"]
    assert purchase["recurrence_number"] == 1
    assert purchase["invoice_by"] == "HOTMART" and purchase["subscription_anticipation_purchase"] is False
    assert purchase["date_next_charge"] == int(subscription.date_next_charge.timestamp() * 1000)
    assert purchase["price"]["value"] == pytest.approx(49.90 * 3 * 0.9)


def test_renewals_are_new_purchases_with_the_next_recurrence_number(producer, club, listener):
    first = transaction_create(owner=producer, product=club, at=datetime(2026, 1, 15, 9, tzinfo=UTC))
    code = first.subscription.subscriber_code

    second = subscription_renew(owner=producer, subscriber_code=code, at=datetime(2026, 2, 15, 9, tzinfo=UTC))
    third = subscription_renew(owner=producer, subscriber_code=code, at=datetime(2026, 3, 15, 9, tzinfo=UTC))

    numbers = [p.recurrence_number for p in Subscription.objects.get(subscriber_code=code).purchases.order_by("id")]
    assert numbers == [1, 2, 3]
    assert len({first.purchase.transaction, second.purchase.transaction, third.purchase.transaction}) == 3
    data = data_of(third)
    assert data["purchase"]["recurrence_number"] == 3 and data["purchase"]["status"] == "APPROVED"
    assert data["subscription"]["subscriber"]["code"] == code
    assert third.subscription.date_next_charge == datetime(2026, 4, 15, 9, tzinfo=UTC)
    assert data["buyer"]["email"] == json.loads(first.notifications[0].payload)["data"]["buyer"]["email"]


def test_a_billet_renewal_waits_for_payment_and_blocks_the_next(producer, club, listener):
    first = transaction_create(owner=producer, product=club, payment_type="billet")
    code = first.subscription.subscriber_code
    with pytest.raises(ValidationError) as caught:
        subscription_renew(owner=producer, subscriber_code=code)
    assert "only an ACTIVE subscription" in caught.value.message_dict["subscription"][0]
    transaction_transition(owner=producer, transaction=first.purchase.transaction, to="approved")
    renewal = subscription_renew(owner=producer, subscriber_code=code)
    assert renewal.purchase.status == PurchaseStatus.BILLET_PRINTED and renewal.purchase.billet
    with pytest.raises(ValidationError) as caught:
        subscription_renew(owner=producer, subscriber_code=code)
    assert "still BILLET_PRINTED" in caught.value.message_dict["subscription"][0]
    with pytest.raises(ValidationError) as caught:
        subscription_renew(owner=producer, subscriber_code="NOPE1234")
    assert "No subscription" in caught.value.message_dict["subscription"][0]


def test_cancelling_a_subscription_emits_subscription_cancellation(producer, club, listener):
    first = transaction_create(owner=producer, product=club, buyer_name="Ana Souza")
    code = first.subscription.subscriber_code

    outcome = subscription_cancel(owner=producer, subscriber_code=code)

    assert outcome.event.event_type == EventType.SUBSCRIPTION_CANCELLATION
    assert outcome.subscription.status == SubscriptionStatus.CANCELLED_BY_CUSTOMER
    data = data_of(outcome)
    assert data["cancellation_date"] == int(outcome.event.occurred_at.timestamp() * 1000)
    assert data["subscriber"]["code"] == code and data["subscriber"]["name"] == "Ana Souza"
    assert data["subscription"]["id"] == outcome.subscription.hotmart_id
    assert data["actual_recurrence_value"] == pytest.approx(49.90)
    with pytest.raises(ValidationError) as caught:
        subscription_cancel(owner=producer, subscriber_code=code)
    assert "already CANCELLED_BY_CUSTOMER" in caught.value.message_dict["subscription"][0]
    with pytest.raises(ValidationError) as caught:
        subscription_renew(owner=producer, subscriber_code=code)
    assert "subscription" in caught.value.message_dict


def test_cancelling_by_the_seller_and_a_bad_canceller(producer, club):
    code = transaction_create(owner=producer, product=club).subscription.subscriber_code
    with pytest.raises(ValidationError) as caught:
        subscription_cancel(owner=producer, subscriber_code=code, by="nobody")
    assert "by" in caught.value.message_dict
    assert subscription_cancel(owner=producer, subscriber_code=code, by="seller").subscription.status == (
        SubscriptionStatus.CANCELLED_BY_SELLER
    )


def test_switching_plan_emits_switch_plan_with_both_plans(producer, club, listener):
    code = transaction_create(owner=producer, product=club).subscription.subscriber_code

    outcome = subscription_switch_plan(owner=producer, subscriber_code=code, plan="yearly")

    assert outcome.event.event_type == EventType.SWITCH_PLAN
    data = data_of(outcome)
    assert [(p["id"], p["current"]) for p in data["plans"]] == [
        (club.hotmart_id * 10 + 2, True),
        (club.hotmart_id * 10, False),
    ]
    assert data["subscription"]["subscriber_code"] == code and data["subscription"]["status"] == "ACTIVE"
    assert data["switch_plan_date"] == int(outcome.event.occurred_at.timestamp() * 1000)
    renewal = subscription_renew(owner=producer, subscriber_code=code)
    assert renewal.purchase.price == Decimal("479.04"), "the new plan's price applies from the next charge"
    for plan, message in (("yearly", "already on yearly"), ("weekly", "Unknown plan")):
        with pytest.raises(ValidationError) as caught:
            subscription_switch_plan(owner=producer, subscriber_code=code, plan=plan)
        assert message in caught.value.message_dict["plan"][0]


def test_changing_the_charge_day_emits_its_event_with_old_and_new_day(producer, club, listener):
    code = transaction_create(
        owner=producer, product=club, at=datetime(2026, 1, 7, 12, tzinfo=UTC)
    ).subscription.subscriber_code

    outcome = subscription_change_charge_day(
        owner=producer, subscriber_code=code, day=25, at=datetime(2026, 1, 20, 12, tzinfo=UTC)
    )

    assert outcome.event.event_type == EventType.UPDATE_SUBSCRIPTION_CHARGE_DATE
    payload = json.loads(outcome.notifications[0].payload)
    subscription = payload["data"]["subscription"]
    assert (subscription["oldChargeDay"], subscription["newChargeDay"]) == (7, 25)
    assert subscription["dateNextCharge"] == "2026-02-25T12:00:00.000Z"
    assert payload["hottok"] == producer.webhook_account.hottok
    for day in (25, 0, 32):
        with pytest.raises(ValidationError) as caught:
            subscription_change_charge_day(owner=producer, subscriber_code=code, day=day)
        assert "day" in caught.value.message_dict


# --- Cart and members area ----------------------------------------------------------------------------------


def test_cart_abandonment_records_the_visitor_and_creates_no_transaction(producer, course, listener):
    outcome = cart_abandon(
        owner=producer,
        product=course,
        buyer_email="quase@example.com",
        buyer_name="Quase Comprador",
        buyer_phone="11987654321",
    )

    assert outcome.event.event_type == EventType.PURCHASE_OUT_OF_SHOPPING_CART
    assert outcome.purchase is None and Purchase.objects.count() == 0
    data = data_of(outcome)
    # the number as Hotmart's cart sample writes it: without its area code (kept for the buyer's other events)
    assert data["buyer"] == {"name": "Quase Comprador", "email": "quase@example.com", "phone": "987654321"}
    assert outcome.event.facts["buyer"]["phone_code"] == "11"
    assert data["affiliate"] is False and data["product"]["id"] == course.hotmart_id
    with pytest.raises(ValidationError) as caught:
        cart_abandon(owner=producer, product=course, buyer_phone="call me")
    assert "buyer_phone" in caught.value.message_dict


def test_the_members_area_opens_with_the_approval(producer, course, listener):
    pending = transaction_create(owner=producer, product=course, payment_type="pix").purchase
    with pytest.raises(ValidationError) as caught:
        member_first_access(owner=producer, transaction=pending.transaction)
    assert "no access" in caught.value.message_dict["transaction"][0]
    with pytest.raises(ValidationError) as caught:
        member_module_complete(owner=producer, transaction=pending.transaction)
    assert "no access" in caught.value.message_dict["transaction"][0]
    transaction_transition(owner=producer, transaction=pending.transaction, to="approved")
    with pytest.raises(ValidationError) as caught:
        member_module_complete(owner=producer, transaction=pending.transaction)
    assert "has not entered" in caught.value.message_dict["transaction"][0]

    first = member_first_access(owner=producer, transaction=pending.transaction)

    assert first.event.event_type == EventType.CLUB_FIRST_ACCESS
    assert first.event.transaction == pending.transaction, "filed under its transaction"
    assert data_of(first)["user"]["email"] == pending.buyer["email"]
    with pytest.raises(ValidationError) as caught:
        member_first_access(owner=producer, transaction=pending.transaction)
    assert "already entered" in caught.value.message_dict["transaction"][0]


def test_modules_are_completed_in_order_or_by_choice_once_each(producer, course, listener):
    purchase = transaction_create(owner=producer, product=course).purchase
    member_first_access(owner=producer, transaction=purchase.transaction)

    first = member_module_complete(owner=producer, transaction=purchase.transaction)
    third = member_module_complete(owner=producer, transaction=purchase.transaction, module="3")

    assert data_of(first)["module"]["name"] == "Módulo 1: Boas-vindas"
    assert data_of(third)["module"]["name"] == "Módulo 3: Fundamentos"
    assert data_of(third)["product"]["id"] == str(course.hotmart_id)
    nxt = member_module_complete(owner=producer, transaction=purchase.transaction)
    assert data_of(nxt)["module"]["name"].startswith("Módulo 2")
    for module, message in (("3", "already completed"), ("Módulo 99", "Unknown module")):
        with pytest.raises(ValidationError) as caught:
            member_module_complete(owner=producer, transaction=purchase.transaction, module=module)
        assert message in caught.value.message_dict["module"][0]


# --- Payloads of tracked sales ------------------------------------------------------------------------------


def _story(producer, course, club) -> list:
    """One of each event, through the simulator's services, over every payment type."""
    outcomes = []
    card = transaction_create(owner=producer, product=course, installments=3, src="ads", xcod="x1")
    outcomes += [card, transaction_transition(owner=producer, transaction=card.purchase.transaction, to="dispute")]
    outcomes.append(transaction_transition(owner=producer, transaction=card.purchase.transaction, to="approved"))
    outcomes.append(transaction_transition(owner=producer, transaction=card.purchase.transaction, to="completed"))
    outcomes.append(transaction_transition(owner=producer, transaction=card.purchase.transaction, to="chargeback"))
    outcomes.append(transaction_create(owner=producer, product=course, refused=True))
    billet = transaction_create(owner=producer, product=course, payment_type="billet")
    outcomes += [billet, transaction_transition(owner=producer, transaction=billet.purchase.transaction, to="delayed")]
    outcomes.append(transaction_transition(owner=producer, transaction=billet.purchase.transaction, to="expired"))
    pix = transaction_create(owner=producer, product=club, payment_type="pix", plan="yearly")
    outcomes += [pix, transaction_transition(owner=producer, transaction=pix.purchase.transaction, to="approved")]
    outcomes.append(member_first_access(owner=producer, transaction=pix.purchase.transaction))
    outcomes.append(member_module_complete(owner=producer, transaction=pix.purchase.transaction))
    code = pix.subscription.subscriber_code
    outcomes.append(subscription_renew(owner=producer, subscriber_code=code))
    renewal = transaction_transition(owner=producer, transaction=outcomes[-1].purchase.transaction, to="approved")
    outcomes += [renewal, subscription_cancel(owner=producer, subscriber_code=code)]
    outcomes.append(transaction_transition(owner=producer, transaction=renewal.purchase.transaction, to="refunded"))
    card_club = transaction_create(owner=producer, product=club)
    outcomes.append(card_club)
    outcomes.append(
        subscription_switch_plan(
            owner=producer, subscriber_code=card_club.subscription.subscriber_code, plan="quarterly"
        )
    )
    outcomes.append(
        subscription_change_charge_day(owner=producer, subscriber_code=card_club.subscription.subscriber_code, day=3)
    )
    outcomes.append(cart_abandon(owner=producer, product=course))
    return outcomes


def test_every_event_of_a_tracked_sale_matches_its_sample_and_its_documentation(producer, course, club, listener):
    outcomes = _story(producer, course, club)

    seen = set()
    for outcome in outcomes:
        event = outcome.event
        seen.add(event.event_type)
        [notification] = outcome.notifications
        payload = json.loads(notification.payload)
        assert payload["id"] == str(event.uuid) and payload["event"] == event.event_type
        assert_matches_sample(payload, event.event_type)
        assert_documented(payload, event.event_type)
        if event.event_type in PURCHASE_EVENTS:
            ctx = PayloadContext(str(event.uuid), event.event_type, 0, event.facts, "token")
            assert_form_documented(payload_form(ctx), event.event_type)
            assert payload_build(ctx)["data"] == payload["data"]
    assert seen == set(EventType.values), "the story covers every event type"


def test_an_events_frozen_facts_rebuild_every_payload_it_sent(producer, course, club, listener):
    legacy = configuration_create(
        owner=producer,
        name="legacy",
        events=sorted(PURCHASE_EVENTS),
        url="http://127.0.0.1:9/v1",
        payload_version="1.0",
    )
    outcomes = _story(producer, course, club)
    hottok = producer.webhook_account.hottok
    # the producer changes things afterwards: what was sent does not change, and the facts still rebuild it
    course.name = "Renamed"
    course.save()
    checked = 0
    for outcome in outcomes:
        for notification in outcome.notifications:
            event = Event.objects.get(pk=notification.event_id)
            body = notification_body(event=event, configuration=notification.configuration, hottok=hottok)
            assert (body.text, body.content_type) == (notification.payload, notification.content_type)
            checked += 1
    assert checked > len(outcomes)
    assert Notification.objects.filter(configuration=legacy, content_type="application/x-www-form-urlencoded").exists()
