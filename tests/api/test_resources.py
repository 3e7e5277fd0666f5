"""Products, events, the account and authentication: each endpoint, its scoping and its errors."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client

from configurations.models import Account, Product
from configurations.services import configuration_create
from history.models import Event
from tests.api.conftest import Api, assert_error, bearer_token
from tests.factories import ProductFactory
from web.api.errors import api_exception_handler

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/webhook"


# --- Authentication ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/v1/configurations", "/api/v1/products", "/api/v1/notifications", "/api/v1/account", "/api/v1/hooks"],
)
def test_without_a_token_every_endpoint_answers_401_with_a_bearer_challenge(db, path):
    response = Api(None, None).get(path)

    body = assert_error(response, 401, code="not_authenticated")
    assert "POST /security/oauth/token" in body["message"]
    assert response["WWW-Authenticate"].startswith('Bearer realm="api"')


@pytest.mark.parametrize("header", ["Bearer not-a-real-token", "Bearer", "Bearer a b"])
def test_a_bad_bearer_token_answers_401(db, header):
    client = Client(HTTP_AUTHORIZATION=header)
    assert_error(client.get("/api/v1/configurations"), 401, code="invalid_token")


def test_a_token_of_an_inactive_producer_is_refused(api):
    User.objects.filter(pk=api.user.pk).update(is_active=False)
    assert_error(api.get("/api/v1/account"), 401)


def test_the_dashboards_session_works_and_needs_csrf_to_change_things(producer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(producer)

    assert client.get("/api/v1/account").json()["username"] == producer.username
    refused = client.post("/api/v1/account/regenerate-hottok", content_type="application/json")
    assert_error(refused, 403, code="permission_denied")

    client.get("/credentials/")  # any page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post("/api/v1/account/regenerate-hottok", content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200


def test_an_unknown_api_path_is_a_json_404(api):
    assert_error(api.get("/api/v1/nothing-here"), 404, code="not_found")


# --- Account ----------------------------------------------------------------------------------------------


def test_account_reveals_the_hottok_to_its_owner(api):
    response = api.get("/api/v1/account")

    assert response.status_code == 200
    account = Account.objects.get(user=api.user)
    assert response.json()["hottok"] == account.hottok
    assert response.json()["username"] == api.user.username


def test_regenerating_the_hottok_replaces_it(api):
    before = api.get("/api/v1/account").json()["hottok"]

    response = api.post("/api/v1/account/regenerate-hottok")

    assert response.status_code == 200
    after = response.json()["hottok"]
    assert after != before and len(after) == 40
    assert Account.objects.get(user=api.user).hottok == after
    assert api.get("/api/v1/account").json()["hottok"] == after


def test_each_producer_sees_only_their_own_hottok(api, other_api):
    assert api.get("/api/v1/account").json()["hottok"] != other_api.get("/api/v1/account").json()["hottok"]


# --- Products ---------------------------------------------------------------------------------------------


def test_list_products_is_scoped(api, other_api, product):
    response = api.get("/api/v1/products")

    assert response.status_code == 200
    assert [p["id"] for p in response.json()["items"]] == [product.hotmart_id]


def test_create_a_product(api):
    response = api.post(
        "/api/v1/products", {"name": "Clube", "price": "49.90", "currency": "usd", "is_subscription": True}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Clube" and body["price"] == "49.90" and body["currency"] == "USD"
    assert body["is_subscription"] is True and 1_000_000 <= body["id"] <= 9_999_999
    assert Product.objects.get(hotmart_id=body["id"]).owner == api.user


def test_create_a_product_with_its_own_id(api):
    assert api.post("/api/v1/products", {"name": "P", "id": 4242}).json()["id"] == 4242


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({}, "name", "required"),
        ({"name": "P", "price": "-1"}, "price", "min_value"),
        ({"name": "P", "price": "abc"}, "price", "invalid"),
        ({"name": "P", "price": "1" * 20}, "price", "max_digits"),
        ({"name": "P", "currency": "R$"}, "currency", "invalid"),
        ({"name": "P", "id": 0}, "id", "min_value"),
        ({"name": "P", "warranty_days": -3}, "warranty_days", "min_value"),
        ({"name": "P", "support_email": "not-an-email"}, "support_email", "invalid"),
    ],
)
def test_bad_product_input_is_named(api, data, field, code):
    assert_error(api.post("/api/v1/products", data), 400, field=field, code=code)
    assert not Product.objects.filter(owner=api.user).exists()


def test_a_taken_product_id_is_refused_on_id(api, other_api):
    theirs = ProductFactory(owner=other_api.user)
    body = assert_error(api.post("/api/v1/products", {"name": "P", "id": theirs.hotmart_id}), 400, field="id")
    assert "taken" in body["message"]


# --- Events -----------------------------------------------------------------------------------------------


def test_recording_an_event_answers_with_the_notifications_created(api, product):
    first = configuration_create(owner=api.user, name="a", events=["PURCHASE_APPROVED"], url=URL)
    second = configuration_create(owner=api.user, name="b", events=["PURCHASE_APPROVED"], url=URL + "2")
    configuration_create(owner=api.user, name="c", events=["PURCHASE_REFUNDED"], url=URL)

    response = api.post(
        "/api/v1/events",
        {"event_type": "PURCHASE_APPROVED", "product": product.hotmart_id, "buyer_email": "ana@example.com"},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    event = Event.objects.get(uuid=body["event"]["id"])
    assert body["event"]["event_type"] == "PURCHASE_APPROVED" and body["event"]["product"] == product.hotmart_id
    assert body["event"]["buyer_email"] == "ana@example.com"
    assert body["event"]["transaction"] == event.transaction and event.transaction.startswith("HP")
    assert sorted(n["configuration"]["id"] for n in body["notifications"]) == [first.pk, second.pk]
    assert all(n["status"] == "pending" and n["event"] == body["event"]["id"] for n in body["notifications"])


def test_an_event_nobody_listens_to_creates_no_notification(api, product):
    response = api.post("/api/v1/events", {"event_type": "PURCHASE_CHARGEBACK"})
    assert response.status_code == 201 and response.json()["notifications"] == []


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({}, "event_type", "required"),
        ({"event_type": "PURCHASE_MADE_UP"}, "event_type", "invalid_choice"),
        ({"event_type": "PURCHASE_APPROVED", "product": 123}, "product", "invalid"),
        ({"event_type": "PURCHASE_APPROVED", "buyer_email": "nope"}, "buyer_email", "invalid"),
        ({"event_type": "SWITCH_PLAN"}, "product", "invalid"),  # the product is not sold by subscription
    ],
)
def test_bad_event_input_is_named(api, product, data, field, code):
    assert_error(api.post("/api/v1/events", data), 400, field=field, code=code)
    assert not Event.objects.exists()


def test_an_event_for_another_producers_product_is_refused(api, other_api, product):
    theirs = Product.objects.get(owner=other_api.user)
    assert_error(
        api.post("/api/v1/events", {"event_type": "PURCHASE_APPROVED", "product": theirs.hotmart_id}),
        400,
        field="product",
    )


def test_an_event_without_any_product_says_so(api):
    body = assert_error(api.post("/api/v1/events", {"event_type": "PURCHASE_APPROVED"}), 400, field="product")
    assert "create one first" in body["message"]


def test_djangos_own_404_and_403_come_out_in_the_error_format(api):
    for exc, status in ((Http404("No such thing."), 404), (PermissionDenied("Not yours."), 403)):
        response = api_exception_handler(exc, {})
        assert response.status_code == status
        assert response.data["field"] is None and response.data["code"] in ("not_found", "permission_denied")


# A value of the right shape for each path parameter, so that every operation's URL names an endpoint.
PATH_VALUES = {"id": "1", "transaction": "HP00000000000001", "subscriber_code": "NOSUCH01"}


def every_operation():
    document = Client().get("/api/schema/?format=json").json()
    for path, item in document["paths"].items():
        for method in item:
            if path.startswith("/api/"):
                yield method, re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic dXNlcjpwYXNz"])
def test_every_operation_refuses_a_request_without_a_valid_token(db, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    operations = list(every_operation())
    assert len(operations) >= 45
    for method, path in operations:
        response = getattr(Client(**headers), method)(path, content_type="application/json")
        assert_error(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer"), (method, path)


def test_a_read_token_may_call_every_read_and_no_change(producer):
    read_only = Api(producer, bearer_token(producer, scope="read"))
    for method, path in every_operation():
        response = (
            getattr(read_only.client, method)(path, {}, format="json") if method != "get" else read_only.get(path)
        )
        if method == "get":
            assert response.status_code in (200, 404), (method, path, response.content)
        else:
            assert_error(response, 403, code="permission_denied")
