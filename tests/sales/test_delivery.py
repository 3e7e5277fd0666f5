"""End to end through the real worker: the legacy 1.0 postback arrives form-encoded, and an affiliate's
receiver gets the affiliate's own hottok and payload."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

from configurations.services import affiliate_register, affiliation_create, configuration_create
from history.choices import NotificationStatus
from sales.services import transaction_create, transaction_transition
from tests.engine.test_delivery import final, requests_to

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_legacy_configuration_receives_the_form_encoded_postback(stack, httpserver, producer, course):
    httpserver.expect_request("/v1", method="POST").respond_with_data("ok")
    configuration_create(
        owner=producer,
        name="legacy",
        events=["PURCHASE_BILLET_PRINTED", "PURCHASE_APPROVED"],
        url=httpserver.url_for("/v1"),
        payload_version="1.0",
    )

    printed = transaction_create(owner=producer, product=course, payment_type="billet", buyer_email="ana@example.com")
    approved = transaction_transition(owner=producer, transaction=printed.purchase.transaction, to="approved")
    notifications = [final(printed.notifications[0]), final(approved.notifications[0])]

    assert [n.status for n in notifications] == [NotificationStatus.DELIVERED] * 2
    received = requests_to(httpserver, "/v1")
    assert len(received) == 2
    hottok = producer.webhook_account.hottok
    for request, notification in zip(
        sorted(received, key=lambda r: r.headers["X-Dispatcher-Delivery-Id"]), notifications, strict=True
    ):
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert request.get_data() == notification.payload.encode("utf-8"), "the frozen body, byte for byte"
        assert request.headers["X-HOTMART-HOTTOK"] == hottok
    forms = [dict(parse_qsl(r.get_data().decode(), keep_blank_values=True)) for r in received]
    by_status = {form["status"]: form for form in forms}
    assert set(by_status) == {"billet_printed", "approved"}
    for form in forms:
        assert form["hottok"] == hottok
        assert form["transaction"] == printed.purchase.transaction
        assert form["email"] == "ana@example.com"
        assert form["payment_type"] == "billet"
        assert form["billet_url"] == printed.purchase.billet["url"]
        assert form["prod"] == str(course.hotmart_id) and form["price"] == "197.00"
    assert by_status["billet_printed"]["confirmation_purchase_date"] == ""
    assert by_status["approved"]["confirmation_purchase_date"].endswith("Z")


def test_an_affiliates_receiver_gets_its_own_hottok_and_the_affiliate_payload(stack, httpserver, producer, course):
    httpserver.expect_request("/producer").respond_with_data("ok")
    httpserver.expect_request("/affiliate").respond_with_data("ok")
    affiliate = affiliate_register(username="joao_afiliado", name="João Afiliado")
    affiliation_create(affiliate=affiliate, product=course)
    configuration_create(owner=producer, name="p", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/producer"))
    configuration_create(
        owner=affiliate, name="a", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/affiliate"), product=course
    )

    outcome = transaction_create(
        owner=producer, product=course, affiliate_code=affiliate.webhook_account.affiliate_code
    )
    for notification in outcome.notifications:
        assert final(notification).status == NotificationStatus.DELIVERED

    [theirs] = requests_to(httpserver, "/affiliate")
    [ours] = requests_to(httpserver, "/producer")
    assert theirs.headers["X-HOTMART-HOTTOK"] == affiliate.webhook_account.hottok
    assert ours.headers["X-HOTMART-HOTTOK"] == producer.webhook_account.hottok
    their_data, our_data = json.loads(theirs.get_data())["data"], json.loads(ours.get_data())["data"]
    assert "buyer" not in their_data and "buyer" in our_data
    assert their_data["affiliates"] == our_data["affiliates"] != []
    assert json.loads(theirs.get_data())["id"] == json.loads(ours.get_data())["id"], "one event, two recipients"
