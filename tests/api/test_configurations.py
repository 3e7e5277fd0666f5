"""/api/v1/configurations: every action, scoped to the caller, with errors that name the field."""

from __future__ import annotations

import pytest

from configurations.models import Configuration
from configurations.services import configuration_create
from history.choices import NotificationStatus
from history.models import Notification
from tests.api.conftest import Api, assert_error
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/webhook"


def new_configuration(api: Api, **overrides):
    data = {"name": "Members area", "events": ["PURCHASE_APPROVED", "PURCHASE_REFUNDED"], "url": URL, **overrides}
    response = api.post("/api/v1/configurations", data)
    assert response.status_code == 201, response.content
    return response.json()


def test_create_then_read_a_configuration(api, product):
    created = new_configuration(api, product=product.hotmart_id)

    assert created["name"] == "Members area"
    assert created["events"] == ["PURCHASE_APPROVED", "PURCHASE_REFUNDED"]
    assert created["product"] == product.hotmart_id and created["scope"] == product.name
    assert created["status"] == "active" and created["created_by_integration"] is False
    assert created["hook_event"] is None
    stored = Configuration.objects.get(pk=created["id"])
    assert stored.owner == api.user and stored.product == product

    read = api.get(f"/api/v1/configurations/{created['id']}")
    assert read.status_code == 200 and read.json() == created


def test_list_holds_only_the_callers_configurations(api, other_api):
    mine = new_configuration(api)
    new_configuration(other_api, name="theirs")

    response = api.get("/api/v1/configurations")

    assert response.status_code == 200
    assert [c["id"] for c in response.json()["items"]] == [mine["id"]]


def test_put_replaces_and_patch_changes_part(api, product):
    created = new_configuration(api, product=product.hotmart_id)
    path = f"/api/v1/configurations/{created['id']}"

    replaced = api.put(path, {"name": "renamed", "events": ["PURCHASE_CHARGEBACK"], "url": "https://example.com/h"})
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["product"] is None, "PUT without a product means all products"
    assert replaced.json()["events"] == ["PURCHASE_CHARGEBACK"]

    patched = api.patch(path, {"url": "https://example.com/other"})
    assert patched.status_code == 200
    assert patched.json()["name"] == "renamed" and patched.json()["url"] == "https://example.com/other"
    assert patched.json()["events"] == ["PURCHASE_CHARGEBACK"]


def test_disable_stops_pending_notifications_and_enable_turns_it_back_on(api, product):
    created = new_configuration(api)
    event = api.post("/api/v1/events", {"event_type": "PURCHASE_APPROVED"}).json()
    [notification] = event["notifications"]

    disabled = api.post(f"/api/v1/configurations/{created['id']}/disable", {"reason": "receiver down for a deploy"})

    assert disabled.status_code == 200
    assert disabled.json()["status"] == "disabled"
    assert disabled.json()["disabled_reason"] == "receiver down for a deploy"
    assert Notification.objects.get(pk=notification["id"]).status == NotificationStatus.CANCELLED

    enabled = api.post(f"/api/v1/configurations/{created['id']}/enable")
    assert enabled.status_code == 200
    assert enabled.json()["status"] == "active" and enabled.json()["disabled_reason"] == ""


def test_test_post_queues_a_test_notification(api):
    created = new_configuration(api)

    response = api.post(f"/api/v1/configurations/{created['id']}/test", {"event_type": "SWITCH_PLAN"})

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["is_test"] is True and body["event_type"] == "SWITCH_PLAN"
    assert body["configuration"] == {"id": created["id"], "name": "Members area", "url": URL}
    assert Notification.objects.get(pk=body["id"]).is_test


def test_delete_removes_it_and_keeps_its_history(api, product):
    created = new_configuration(api)
    [notification] = api.post("/api/v1/events", {"event_type": "PURCHASE_APPROVED"}).json()["notifications"]

    response = api.delete(f"/api/v1/configurations/{created['id']}")

    assert response.status_code == 204
    assert not Configuration.objects.filter(pk=created["id"]).exists()
    kept = api.get(f"/api/v1/notifications/{notification['id']}")
    assert kept.status_code == 200 and kept.json()["configuration"] is None
    assert_error(api.get(f"/api/v1/configurations/{created['id']}"), 404, code="not_found")


@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    [
        ("get", "", None),
        ("put", "", {"name": "x", "events": ["PURCHASE_APPROVED"], "url": URL}),
        ("patch", "", {"name": "stolen"}),
        ("delete", "", None),
        ("post", "/enable", None),
        ("post", "/disable", None),
        ("post", "/test", {"event_type": "PURCHASE_APPROVED"}),
    ],
)
def test_another_producers_configuration_answers_404(api, other_api, method, suffix, data):
    theirs = configuration_create(owner=other_api.user, name="theirs", events=["PURCHASE_APPROVED"], url=URL)
    path = f"/api/v1/configurations/{theirs.pk}{suffix}"

    response = getattr(api, method)(path, data) if data is not None else getattr(api, method)(path)

    body = assert_error(response, 404, code="not_found")
    assert body["message"] == f"No configuration {theirs.pk}."
    theirs.refresh_from_db()
    assert theirs.name == "theirs" and theirs.status == "active"
    assert not Notification.objects.filter(configuration=theirs).exists()


def test_an_id_that_exists_nowhere_answers_the_same_404(api):
    body = assert_error(api.get("/api/v1/configurations/999999"), 404, code="not_found")
    assert body["message"] == "No configuration 999999."


@pytest.mark.parametrize("path", ["/api/v1/configurations/abc", "/api/v1/configurations/99999999999999999999"])
def test_an_id_that_is_not_a_64_bit_number_is_a_json_404(api, path):
    assert_error(api.get(path), 404, code="not_found")


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"events": ["PURCHASE_APPROVED"], "url": URL}, "name", "required"),
        ({"name": "", "events": ["PURCHASE_APPROVED"], "url": URL}, "name", "blank"),
        ({"name": "x" * 101, "events": ["PURCHASE_APPROVED"], "url": URL}, "name", "max_length"),
        ({"name": "   ", "events": ["PURCHASE_APPROVED"], "url": URL}, "name", "blank"),
        ({"name": "n", "events": [], "url": URL}, "events", "invalid"),
        ({"name": "n", "events": ["PURCHASE_MADE_UP"], "url": URL}, "events.0", "invalid_choice"),
        ({"name": "n", "events": "PURCHASE_APPROVED", "url": URL}, "events", "not_a_list"),
        ({"name": "n", "events": ["PURCHASE_APPROVED"], "url": "ftp://example.com/x"}, "url", "invalid"),
        ({"name": "n", "events": ["PURCHASE_APPROVED"], "url": "http://exa mple.com"}, "url", "invalid"),
        ({"name": "n", "events": ["PURCHASE_APPROVED"]}, "url", "required"),
        ({"name": "n", "events": ["PURCHASE_APPROVED"], "url": URL, "product": 4242}, "product", "invalid"),
        ({"name": "n", "events": ["PURCHASE_APPROVED"], "url": URL, "product": "abc"}, "product", "invalid"),
        ({"name": "n", "events": ["PURCHASE_APPROVED"], "url": URL, "product": 2**70}, "product", "max_value"),
        ({"name": "n\x00", "events": ["PURCHASE_APPROVED"], "url": URL}, "name", "null_characters_not_allowed"),
        ({"name": 5, "events": [None], "url": ["x"]}, "events.0", "null"),
    ],
)
def test_bad_input_answers_400_naming_the_field(api, data, field, code):
    body = assert_error(api.post("/api/v1/configurations", data), 400, field=field, code=code)
    assert not Configuration.objects.exists(), body


def test_a_name_already_used_is_refused_on_the_name(api):
    new_configuration(api)
    body = assert_error(
        api.post("/api/v1/configurations", {"name": "Members area", "events": ["PURCHASE_APPROVED"], "url": URL}),
        400,
        field="name",
    )
    assert "already have" in body["message"]


def test_another_producers_product_is_refused_like_an_unknown_one(api, other_api):
    theirs = ProductFactory(owner=other_api.user)
    body = assert_error(
        api.post(
            "/api/v1/configurations",
            {"name": "n", "events": ["PURCHASE_APPROVED"], "url": URL, "product": theirs.hotmart_id},
        ),
        400,
        field="product",
    )
    assert body["message"].startswith(f"You have no product {theirs.hotmart_id}")


def test_every_problem_is_listed(api):
    body = assert_error(api.post("/api/v1/configurations", {"events": "x"}), 400)
    assert {e["field"] for e in body["errors"]} == {"name", "events", "url"}


def test_a_body_that_is_not_json_is_refused(api):
    response = api.client.post("/api/v1/configurations", "name=x", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, code="unsupported_media_type")


def test_malformed_json_is_a_400(api):
    response = api.client.post("/api/v1/configurations", '{"name": ', content_type="application/json")
    assert_error(response, 400, code="parse_error")


def test_a_json_body_that_is_not_an_object_is_a_400(api):
    response = api.client.post("/api/v1/configurations", "[1, 2]", content_type="application/json")
    assert_error(response, 400, code="invalid")


def test_a_method_the_resource_does_not_have_is_a_json_405(api):
    assert_error(api.delete("/api/v1/configurations"), 405, code="method_not_allowed")


def test_bad_test_post_event_is_named(api):
    created = new_configuration(api)
    assert_error(
        api.post(f"/api/v1/configurations/{created['id']}/test", {"event_type": "NOPE"}),
        400,
        field="event_type",
        code="invalid_choice",
    )


def test_a_disable_reason_too_long_is_refused(api):
    created = new_configuration(api)
    assert_error(
        api.post(f"/api/v1/configurations/{created['id']}/disable", {"reason": "x" * 501}),
        400,
        field="reason",
        code="max_length",
    )


def test_a_400_names_every_bad_field_at_once(api):
    response = api.post(
        "/api/v1/configurations", {"name": "x", "events": ["NOPE"], "url": "not a url", "product": 987654}
    )

    body = assert_error(response, 400)
    assert {error["field"] for error in body["errors"]} == {"events.0", "url", "product"}
    assert not Configuration.objects.exists()


def test_a_400_on_change_names_every_bad_field_too(api):
    created = new_configuration(api, name="taken")
    other = new_configuration(api, name="other")
    response = api.patch(f"/api/v1/configurations/{other['id']}", {"name": "taken", "events": [], "url": "ftp://x"})

    body = assert_error(response, 400)
    assert {error["field"] for error in body["errors"]} == {"name", "events", "url"}
    assert Configuration.objects.get(pk=other["id"]).name == "other"
    assert created["name"] == "taken"


def test_a_hook_subscription_names_both_bad_fields(api):
    response = api.post("/api/v1/hooks", {"target_url": "ftp://nope", "event": "nope"})

    body = assert_error(response, 400)
    assert {error["field"] for error in body["errors"]} == {"target_url", "event"}
