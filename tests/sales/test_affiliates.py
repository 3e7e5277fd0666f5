"""Affiliates: a sale through an affiliate's hotlink names it and notifies its configurations too, with the
affiliate's own hottok and only the fields the catalogue marks as sent to affiliates; buyer data (and the
billet's link and code) only when the producer allows it."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest
from django.core.exceptions import ValidationError

from catalogue import Audience
from catalogue.events import EventType
from configurations.models import Affiliation
from configurations.services import (
    account_buyer_data_sharing_set,
    affiliate_register,
    affiliation_create,
    configuration_create,
)
from history.models import Notification
from sales.services import cart_abandon, member_first_access, subscription_cancel, transaction_create
from tests.factories import ProductFactory
from tests.payload_checks import assert_documented, assert_form_documented


@pytest.fixture
def affiliate(course):
    user = affiliate_register(username="maria_afiliada", name="Maria Afiliada")
    affiliation_create(affiliate=user, product=course, commission_percent="40")
    return user


@pytest.fixture
def affiliate_hook(affiliate, course):
    return configuration_create(
        owner=affiliate, name="my sales", events=EventType.values, url="http://127.0.0.1:9/aff", product=course
    )


def payloads(outcome) -> dict[str, dict]:
    return {n.owner.username: json.loads(n.payload) for n in outcome.notifications}


def test_registering_an_affiliate_gives_it_a_code_and_a_hottok(affiliate, producer):
    account = affiliate.webhook_account
    assert len(account.affiliate_code) == 10 and account.affiliate_code[1:9].isdigit()
    assert account.hottok != producer.webhook_account.hottok
    assert not affiliate.has_usable_password()
    assert Affiliation.objects.get(affiliate=affiliate).hotlink


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"commission_percent": "0"}, "commission_percent"),
        ({"commission_percent": "101"}, "commission_percent"),
        ({"commission_percent": "lots"}, "commission_percent"),
    ],
)
def test_bad_affiliations_are_refused(affiliate, course, kwargs, field):
    other = ProductFactory(owner=course.owner)
    with pytest.raises(ValidationError) as caught:
        affiliation_create(affiliate=affiliate, product=other, **kwargs)
    assert field in caught.value.message_dict


def test_an_affiliate_cannot_join_twice_nor_a_producer_its_own_product(affiliate, course, producer):
    for user in (affiliate, producer):
        with pytest.raises(ValidationError) as caught:
            affiliation_create(affiliate=user, product=course)
        assert "affiliate" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        affiliate_register(username="maria_afiliada")
    assert "taken" in caught.value.message_dict["username"][0]


def test_an_affiliate_scopes_configurations_to_products_it_sells_only(affiliate, course):
    stranger = ProductFactory()
    with pytest.raises(ValidationError) as caught:
        configuration_create(
            owner=affiliate, name="x", events=["PURCHASE_APPROVED"], url="http://a.example/", product=stranger
        )
    assert "neither yours nor one you are an affiliate of" in caught.value.message_dict["product"][0]


def test_a_hotlink_sale_names_the_affiliate_and_notifies_both(producer, course, listener, affiliate, affiliate_hook):
    outcome = transaction_create(
        owner=producer, product=course, affiliate_code=affiliate.webhook_account.affiliate_code
    )

    sent = payloads(outcome)
    assert set(sent) == {producer.username, affiliate.username}
    named = [{"affiliate_code": affiliate.webhook_account.affiliate_code, "name": "Maria Afiliada"}]
    assert sent[producer.username]["data"]["affiliates"] == named
    assert sent[affiliate.username]["data"]["affiliates"] == named
    shares = {c["source"]: c["value"] for c in sent[producer.username]["data"]["commissions"]}
    assert shares["AFFILIATE"] == pytest.approx((197 - shares["MARKETPLACE"]) * 0.4, abs=0.01)
    assert sum(shares.values()) == pytest.approx(197)
    # each notification belongs to its recipient: the affiliate sees it in its own history, with its hottok
    mine = Notification.objects.get(owner=affiliate)
    assert mine.configuration == affiliate_hook and mine.event.owner == producer


def test_without_permission_the_affiliate_gets_no_buyer_data(producer, course, listener, affiliate, affiliate_hook):
    outcome = transaction_create(
        owner=producer, product=course, payment_type="billet", affiliate_code=affiliate.webhook_account.affiliate_code
    )

    theirs = payloads(outcome)[affiliate.username]
    assert "buyer" not in theirs["data"] and "commissions" not in theirs["data"]
    assert theirs["data"]["producer"] == {"name": producer.webhook_account.producer_name}
    assert set(theirs["data"]["purchase"]["payment"]) == {"installments_number", "type"}
    assert_documented(theirs, EventType.PURCHASE_BILLET_PRINTED, Audience(affiliate=True, buyer_data=False))
    ours = payloads(outcome)[producer.username]
    assert ours["data"]["buyer"]["email"] and ours["data"]["purchase"]["payment"]["billet_url"]


def test_with_permission_the_affiliate_gets_the_buyer_and_the_billet(
    producer, course, listener, affiliate, affiliate_hook
):
    account_buyer_data_sharing_set(account=producer.webhook_account, allowed=True)

    outcome = transaction_create(
        owner=producer,
        product=course,
        payment_type="billet",
        buyer_email="cliente@example.com",
        affiliate_code=affiliate.webhook_account.affiliate_code,
    )

    theirs = payloads(outcome)[affiliate.username]["data"]
    assert theirs["buyer"]["email"] == "cliente@example.com"
    assert theirs["purchase"]["payment"]["billet_url"] == outcome.purchase.billet["url"]
    assert theirs["purchase"]["payment"]["billet_barcode"] == outcome.purchase.billet["barcode"]
    assert "commissions" not in theirs and "document" not in theirs["producer"]
    assert_documented(payloads(outcome)[affiliate.username], EventType.PURCHASE_BILLET_PRINTED, Audience(True, True))


def test_the_permission_in_force_when_the_event_happened_is_what_counts(
    producer, course, listener, affiliate, affiliate_hook
):
    outcome = transaction_create(
        owner=producer, product=course, affiliate_code=affiliate.webhook_account.affiliate_code
    )
    account_buyer_data_sharing_set(account=producer.webhook_account, allowed=True)

    assert outcome.event.facts["producer"]["shares_buyer_data"] is False
    assert "buyer" not in payloads(outcome)[affiliate.username]["data"]


def test_an_affiliates_legacy_configuration_gets_its_own_hottok_and_the_filtered_form(
    producer, course, listener, affiliate
):
    configuration_create(
        owner=affiliate,
        name="legacy",
        events=["PURCHASE_APPROVED"],
        url="http://127.0.0.1:9/v1",
        product=course,
        payload_version="1.0",
    )

    outcome = transaction_create(
        owner=producer, product=course, affiliate_code=affiliate.webhook_account.affiliate_code
    )

    notification = Notification.objects.get(owner=affiliate, event=outcome.event)
    assert notification.content_type == "application/x-www-form-urlencoded"
    pairs = parse_qsl(notification.payload, keep_blank_values=True)
    fields = dict(pairs)
    assert fields["hottok"] == affiliate.webhook_account.hottok
    assert fields["aff"] == affiliate.webhook_account.affiliate_code
    assert "email" not in fields and "cms_vendor" not in fields and "producer_document" not in fields
    assert_form_documented(pairs, EventType.PURCHASE_APPROVED, Audience(affiliate=True, buyer_data=False))


def test_hotlink_carts_and_subscriptions_reach_the_affiliate_but_members_area_events_do_not(
    producer, course, club, listener, affiliate
):
    affiliation_create(affiliate=affiliate, product=club)
    configuration_create(owner=affiliate, name="everything", events=EventType.values, url="http://127.0.0.1:9/all")
    code = affiliate.webhook_account.affiliate_code

    cart = cart_abandon(owner=producer, product=course, affiliate_code=code)
    sale = transaction_create(owner=producer, product=club, affiliate_code=code)
    cancelled = subscription_cancel(owner=producer, subscriber_code=sale.subscription.subscriber_code)
    access = member_first_access(owner=producer, transaction=sale.purchase.transaction)

    assert payloads(cart)[affiliate.username]["data"]["affiliate"] is True
    assert "buyer" not in payloads(cart)[affiliate.username]["data"]
    assert affiliate.username in payloads(sale) and affiliate.username in payloads(cancelled)
    assert "name" not in payloads(cancelled)[affiliate.username]["data"]["subscriber"]
    assert set(payloads(access)) == {producer.username}


def test_a_sale_through_a_product_the_affiliate_does_not_sell_is_refused(producer, affiliate):
    other = ProductFactory(owner=producer)
    with pytest.raises(ValidationError) as caught:
        transaction_create(owner=producer, product=other, affiliate_code=affiliate.webhook_account.affiliate_code)
    assert "add the affiliation first" in caught.value.message_dict["affiliate_code"][0]
