"""A producer's affiliates through the API: its affiliations, the account setting that lets affiliates see
buyer data (and what it changes in their notifications), and a configuration's payload version."""

from __future__ import annotations

import json

import pytest

from configurations.models import Account, Configuration
from configurations.services import affiliate_register, affiliation_create, configuration_create
from history.models import Notification
from tests.api.conftest import Api, assert_error, bearer_token
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/webhook"


@pytest.fixture
def affiliate(course):
    user = affiliate_register(username="maria_afiliada", name="Maria Afiliada")
    affiliation_create(affiliate=user, product=course, commission_percent="40")
    return user


# --- Affiliations -----------------------------------------------------------------------------------------


def test_list_the_affiliates_of_your_products(api, other_api, course, affiliate):
    second = ProductFactory(owner=api.user)
    affiliation_create(affiliate=affiliate, product=second)
    affiliation_create(affiliate=affiliate_register(username="theirs"), product=other_api.user.products.get())

    response = api.get("/api/v1/affiliations")

    assert response.status_code == 200, response.content
    items = response.json()["items"]
    code = affiliate.webhook_account.affiliate_code
    assert [(i["affiliate"], i["product"]) for i in items] == [
        ("maria_afiliada", course.hotmart_id),
        ("maria_afiliada", second.hotmart_id),
    ]
    assert items[0]["affiliate_code"] == code and items[0]["commission_percent"] == "40.00"
    assert items[0]["hotlink"] and items[0]["id"] and items[0]["created_at"]
    only_course = api.get("/api/v1/affiliations", {"product": course.hotmart_id}).json()["items"]
    assert [i["product"] for i in only_course] == [course.hotmart_id]


def test_affiliations_of_an_unknown_product_are_a_named_error(api, other_api):
    theirs = other_api.user.products.get()
    assert_error(api.get("/api/v1/affiliations", {"product": theirs.hotmart_id}), 400, field="product")
    assert_error(api.get("/api/v1/affiliations", {"product": "x"}), 400, field="product", code="invalid")


def test_an_affiliation_code_from_the_list_sells_through_the_hotlink(api, course, affiliate):
    code = api.get("/api/v1/affiliations").json()["items"][0]["affiliate_code"]
    sale = api.post("/api/v1/transactions", {"affiliate_code": code}).json()["transaction"]
    assert sale["affiliate"] == "maria_afiliada"


# --- Account: affiliates see buyer data -------------------------------------------------------------------


def test_the_account_shows_and_changes_whether_affiliates_see_buyer_data(api):
    assert api.get("/api/v1/account").json()["affiliates_see_buyer_data"] is False
    assert api.get("/api/v1/account").json()["affiliate_code"] is None

    response = api.patch("/api/v1/account", {"affiliates_see_buyer_data": True})

    assert response.status_code == 200, response.content
    assert response.json()["affiliates_see_buyer_data"] is True
    assert Account.objects.get(user=api.user).affiliates_see_buyer_data is True
    assert (
        api.patch("/api/v1/account", {"affiliates_see_buyer_data": False}).json()["affiliates_see_buyer_data"] is False
    )


def test_an_affiliates_own_account_shows_its_code(affiliate):
    body = Api(affiliate, bearer_token(affiliate)).get("/api/v1/account").json()
    assert body["affiliate_code"] == affiliate.webhook_account.affiliate_code


@pytest.mark.parametrize(("data", "code"), [({}, "required"), ({"affiliates_see_buyer_data": "perhaps"}, "invalid")])
def test_bad_account_changes_are_named(api, data, code):
    assert_error(api.patch("/api/v1/account", data), 400, field="affiliates_see_buyer_data", code=code)
    assert Account.objects.get(user=api.user).affiliates_see_buyer_data is False


def test_a_read_only_token_cannot_change_the_account(producer):
    reader = Api(producer, bearer_token(producer, scope="read"))
    assert_error(reader.patch("/api/v1/account", {"affiliates_see_buyer_data": True}), 403, code="permission_denied")
    assert Account.objects.get(user=producer).affiliates_see_buyer_data is False


def test_the_setting_decides_whether_an_affiliate_receives_the_buyer(api, course, affiliate):
    configuration_create(owner=affiliate, name="mine", events=["PURCHASE_APPROVED"], url=URL, product=course)
    code = affiliate.webhook_account.affiliate_code

    def affiliate_payload() -> dict:
        api.post("/api/v1/transactions", {"affiliate_code": code, "buyer_email": "ana@example.com"})
        notification = Notification.objects.filter(owner=affiliate).latest("id")
        return json.loads(notification.payload)["data"]

    hidden = affiliate_payload()
    api.patch("/api/v1/account", {"affiliates_see_buyer_data": True})
    shown = affiliate_payload()

    assert "ana@example.com" not in json.dumps(hidden)
    assert shown["buyer"]["email"] == "ana@example.com"


# --- Configurations: payload version ----------------------------------------------------------------------


def test_a_configuration_defaults_to_version_2_and_can_choose_the_legacy_postback(api):
    modern = api.post("/api/v1/configurations", {"name": "json", "events": ["PURCHASE_APPROVED"], "url": URL})
    legacy = api.post(
        "/api/v1/configurations",
        {"name": "legacy", "events": ["PURCHASE_APPROVED"], "url": URL, "payload_version": "1.0"},
    )

    assert modern.status_code == 201 and modern.json()["payload_version"] == "2.0.0"
    assert legacy.status_code == 201 and legacy.json()["payload_version"] == "1.0"
    assert Configuration.objects.get(name="legacy").payload_version == "1.0"
    assert api.get(f"/api/v1/configurations/{legacy.json()['id']}").json()["payload_version"] == "1.0"


def test_a_legacy_configuration_sends_the_form_encoded_postback(api, course):
    api.post(
        "/api/v1/configurations",
        {"name": "legacy", "events": ["PURCHASE_APPROVED"], "url": URL, "payload_version": "1.0"},
    )
    [notification] = api.post("/api/v1/transactions", {}).json()["notifications"]
    assert Notification.objects.get(pk=notification["id"]).content_type == "application/x-www-form-urlencoded"


def test_changing_a_configuration_keeps_its_version_unless_given(api):
    created = api.post(
        "/api/v1/configurations",
        {"name": "legacy", "events": ["PURCHASE_APPROVED"], "url": URL, "payload_version": "1.0"},
    ).json()
    path = f"/api/v1/configurations/{created['id']}"

    renamed = api.patch(path, {"name": "renamed"})
    replaced = api.put(path, {"name": "replaced", "events": ["PURCHASE_REFUNDED"], "url": URL})
    upgraded = api.patch(path, {"payload_version": "2.0.0", "events": ["SWITCH_PLAN"]})

    assert renamed.json()["payload_version"] == "1.0" and replaced.json()["payload_version"] == "1.0"
    assert upgraded.status_code == 200 and upgraded.json()["payload_version"] == "2.0.0"


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"payload_version": "3.0"}, "payload_version", "invalid_choice"),
        ({"payload_version": "1.0", "events": ["SWITCH_PLAN"]}, "events", "invalid"),
    ],
)
def test_a_bad_payload_version_is_named(api, data, field, code):
    body = {"name": "x", "events": ["PURCHASE_APPROVED"], "url": URL, **data}
    error = assert_error(api.post("/api/v1/configurations", body), 400, field=field, code=code)
    assert not Configuration.objects.exists()
    if field == "events":
        assert "1.0 postback carries purchase events only" in error["message"]


def test_a_legacy_configuration_cannot_take_other_events_by_a_change(api):
    created = configuration_create(
        owner=api.user, name="legacy", events=["PURCHASE_APPROVED"], url=URL, payload_version="1.0"
    )
    assert_error(api.patch(f"/api/v1/configurations/{created.pk}", {"events": ["SWITCH_PLAN"]}), 400, field="events")
    created.refresh_from_db()
    assert created.events == ["PURCHASE_APPROVED"]


# --- An affiliate's own configurations --------------------------------------------------------------------


def test_an_affiliate_scopes_its_configuration_to_a_product_it_sells(affiliate, course, other_api):
    mine = Api(affiliate, bearer_token(affiliate))
    body = {"name": "my sales", "events": ["PURCHASE_APPROVED"], "url": URL}

    created = mine.post("/api/v1/configurations", {**body, "product": course.hotmart_id})
    not_sold = mine.post(
        "/api/v1/configurations", {**body, "name": "x", "product": other_api.user.products.get().hotmart_id}
    )

    assert created.status_code == 201, created.content
    assert created.json()["product"] == course.hotmart_id and created.json()["scope"] == course.name
    assert "affiliate of" in assert_error(not_sold, 400, field="product")["message"]
    assert list(Configuration.objects.filter(owner=affiliate).values_list("name", flat=True)) == ["my sales"]
