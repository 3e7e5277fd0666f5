"""A purchase's lifecycle driven through the API end to end: the real token endpoint, the real worker and a
real receiver. A PIX purchase is created, the receiver gets PURCHASE_BILLET_PRINTED with the PIX code; it is
approved, the receiver gets PURCHASE_APPROVED; the notifications are read back through the API."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import Api, token_from_endpoint
from tests.conftest import wait_until
from tests.engine.test_delivery import requests_to

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def delivered(api: Api, notification_id: int) -> dict:
    def check():
        body = api.get(f"/api/v1/notifications/{notification_id}").json()
        return body if body["status"] == "delivered" else None

    return wait_until(check, timeout=30, message=f"notification {notification_id} to be delivered")


def test_a_pix_purchase_created_and_approved_through_the_api_reaches_the_receiver_in_order(
    stack, httpserver, producer, product
):
    httpserver.expect_request("/hotmart", method="POST").respond_with_data("ok", status=200)
    api = Api(producer, token_from_endpoint(producer))
    configuration = api.post(
        "/api/v1/configurations",
        {
            "name": "Members area",
            "events": ["PURCHASE_BILLET_PRINTED", "PURCHASE_APPROVED"],
            "url": httpserver.url_for("/hotmart"),
        },
    ).json()

    created = api.post(
        "/api/v1/transactions",
        {"product": product.hotmart_id, "payment_type": "pix", "buyer_email": "ana@example.com"},
    )
    assert created.status_code == 201, created.content
    sale = created.json()["transaction"]
    code = sale["transaction"]
    [printed] = created.json()["notifications"]
    assert printed["configuration"]["id"] == configuration["id"]
    delivered(api, printed["id"])  # the buyer pays after the PIX code has reached the receiver

    approved = api.post(f"/api/v1/transactions/{code}/transition", {"to": "approved"})
    assert approved.status_code == 200, approved.content
    assert approved.json()["transaction"]["status"] == "APPROVED"
    [paid] = approved.json()["notifications"]
    delivered(api, paid["id"])

    received = [json.loads(request.get_data()) for request in requests_to(httpserver, "/hotmart")]
    assert [body["event"] for body in received] == ["PURCHASE_BILLET_PRINTED", "PURCHASE_APPROVED"]
    first, second = (body["data"]["purchase"] for body in received)
    assert first["transaction"] == second["transaction"] == code
    assert first["status"] == "BILLET_PRINTED" and second["status"] == "APPROVED"
    assert first["payment"]["type"] == "PIX" and first["payment"]["pix_code"] == sale["pix"]["code"]
    assert received[0]["data"]["buyer"]["email"] == "ana@example.com"
    assert received[0]["id"] == created.json()["event"]["id"] and received[1]["id"] == approved.json()["event"]["id"]

    history = api.get("/api/v1/notifications", {"q": code}).json()["items"]
    assert [(n["event_type"], n["status"]) for n in history] == [
        ("PURCHASE_APPROVED", "delivered"),
        ("PURCHASE_BILLET_PRINTED", "delivered"),
    ]
    detail = api.get(f"/api/v1/notifications/{paid['id']}").json()
    assert detail["transaction"] == code and detail["payload"]["data"] == received[1]["data"]
    assert [a["status_code"] for a in detail["attempts"]] == [200]
    timeline = api.get(f"/api/v1/transactions/{code}").json()["timeline"]
    assert [e["event_type"] for e in timeline] == ["PURCHASE_BILLET_PRINTED", "PURCHASE_APPROVED"]
