"""REST hooks: subscribe, list, unsubscribe, and the automatic unsubscribe on 410 Gone."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from catalogue.events import EVENT_GROUPS
from configurations.models import Configuration
from configurations.services import configuration_create
from history.choices import NotificationStatus
from history.models import Notification
from history.publishing import event_record
from tests.api.conftest import assert_error
from tests.conftest import wait_until
from tests.engine.test_delivery import final, requests_to

TARGET = "https://hooks.zapier.com/hooks/standard/123/abc/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("event", "event_types"),
    [
        ("order", list(EVENT_GROUPS["Purchases"])),
        ("cart_abandonment", ["PURCHASE_OUT_OF_SHOPPING_CART"]),
        ("plan_change", ["SWITCH_PLAN"]),
        ("subscription_cancellation", ["SUBSCRIPTION_CANCELLATION"]),
    ],
)
def test_subscribing_creates_a_configuration_marked_as_made_by_an_integration(api, event, event_types):
    response = api.post("/api/v1/hooks", {"target_url": TARGET, "event": event})

    assert response.status_code == 201, response.content
    hook = response.json()
    assert hook["target_url"] == TARGET and hook["event"] == event and hook["events"] == event_types
    assert hook["status"] == "active"
    configuration = Configuration.objects.get(pk=hook["id"])
    assert configuration.owner == api.user and configuration.created_by_integration
    assert configuration.hook_event == event and configuration.events == event_types
    assert configuration.product is None and configuration.is_active
    assert event in configuration.name and "hooks.zapier.com" in configuration.name
    as_configuration = api.get(f"/api/v1/configurations/{hook['id']}").json()
    assert as_configuration["created_by_integration"] is True and as_configuration["hook_event"] == event


@pytest.mark.django_db
@pytest.mark.parametrize("written", ["Cart abandonment", "cart-abandonment", " CART_ABANDONMENT "])
def test_hook_events_are_also_accepted_as_the_help_article_writes_them(api, written):
    response = api.post("/api/v1/hooks", {"target_url": TARGET, "event": written})
    assert response.status_code == 201, response.content
    assert response.json()["event"] == "cart_abandonment"


@pytest.mark.django_db
def test_the_same_target_can_subscribe_twice_under_distinct_names(api):
    first = api.post("/api/v1/hooks", {"target_url": TARGET, "event": "order"}).json()
    second = api.post("/api/v1/hooks", {"target_url": TARGET, "event": "order"}).json()

    names = set(Configuration.objects.filter(pk__in=[first["id"], second["id"]]).values_list("name", flat=True))
    assert len(names) == 2


@pytest.mark.django_db
def test_a_subscription_receives_its_events(api, product):
    hook = api.post("/api/v1/hooks", {"target_url": TARGET, "event": "order"}).json()

    refunded = api.post("/api/v1/events", {"event_type": "PURCHASE_REFUNDED"}).json()
    abandoned = api.post("/api/v1/events", {"event_type": "PURCHASE_OUT_OF_SHOPPING_CART"}).json()

    assert [n["configuration"]["id"] for n in refunded["notifications"]] == [hook["id"]]
    assert abandoned["notifications"] == []


@pytest.mark.django_db
def test_list_and_read_show_only_the_callers_hooks(api, other_api):
    mine = api.post("/api/v1/hooks", {"target_url": TARGET, "event": "plan_change"}).json()
    theirs = other_api.post("/api/v1/hooks", {"target_url": TARGET, "event": "plan_change"}).json()
    configuration_create(owner=api.user, name="by hand", events=["PURCHASE_APPROVED"], url=TARGET)

    assert [h["id"] for h in api.get("/api/v1/hooks").json()["items"]] == [mine["id"]]
    assert api.get(f"/api/v1/hooks/{mine['id']}").json() == mine
    assert_error(api.get(f"/api/v1/hooks/{theirs['id']}"), 404, code="not_found")


@pytest.mark.django_db
def test_unsubscribing_removes_it_and_keeps_its_history(api, product):
    hook = api.post("/api/v1/hooks", {"target_url": TARGET, "event": "order"}).json()
    [notification] = api.post("/api/v1/events", {"event_type": "PURCHASE_APPROVED"}).json()["notifications"]

    response = api.delete(f"/api/v1/hooks/{hook['id']}")

    assert response.status_code == 204
    assert not Configuration.objects.filter(pk=hook["id"]).exists()
    kept = Notification.objects.get(pk=notification["id"])
    assert kept.configuration is None and kept.status == NotificationStatus.CANCELLED
    assert kept.status_reason == "REST hook unsubscribed by its integration."
    assert_error(api.delete(f"/api/v1/hooks/{hook['id']}"), 404, code="not_found")


@pytest.mark.django_db
def test_hooks_cannot_touch_configurations_made_by_hand_or_by_others(api, other_api):
    by_hand = configuration_create(owner=api.user, name="by hand", events=["PURCHASE_APPROVED"], url=TARGET)
    theirs = other_api.post("/api/v1/hooks", {"target_url": TARGET, "event": "order"}).json()

    assert_error(api.delete(f"/api/v1/hooks/{by_hand.pk}"), 404)
    assert_error(api.delete(f"/api/v1/hooks/{theirs['id']}"), 404)
    assert Configuration.objects.filter(pk__in=[by_hand.pk, theirs["id"]]).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"event": "order"}, "target_url", "required"),
        ({"target_url": "not a url", "event": "order"}, "target_url", "invalid"),
        ({"target_url": "ftp://example.com/", "event": "order"}, "target_url", "scheme"),
        ({"target_url": TARGET}, "event", "required"),
        ({"target_url": TARGET, "event": "refund"}, "event", "invalid_choice"),
        ({"target_url": TARGET, "event": "PURCHASE_APPROVED"}, "event", "invalid_choice"),
    ],
)
def test_bad_subscriptions_are_refused_naming_the_field(api, data, field, code):
    assert_error(api.post("/api/v1/hooks", data), 400, field=field, code=code)
    assert not Configuration.objects.exists()


@pytest.mark.django_db
def test_hook_events_lists_the_zapier_names_and_their_event_types(api):
    items = api.get("/api/v1/hooks/events").json()["items"]
    assert [item["event"] for item in items] == [
        "order",
        "cart_abandonment",
        "plan_change",
        "subscription_cancellation",
    ]
    assert items[0]["event_types"][0] == "PURCHASE_APPROVED"


@pytest.mark.django_db
def test_the_cli_listing_shows_which_configurations_an_integration_made(api, capsys):
    hook = api.post("/api/v1/hooks", {"target_url": TARGET, "event": "cart_abandonment"}).json()
    configuration_create(owner=api.user, name="by hand", events=["PURCHASE_APPROVED"], url=TARGET)

    call_command("configurations", "list", "--owner", api.user.username)

    out = capsys.readouterr().out
    assert "created by an integration (REST hook: cart_abandonment)" in out
    assert out.count("created by an integration") == 1
    call_command("configurations", "show", str(hook["id"]))
    assert "REST hook 'cart_abandonment', created by an integration" in capsys.readouterr().out
    call_command("configurations", "show", str(hook["id"]), "--json")
    assert '"created_by_integration": true' in capsys.readouterr().out


# --- Through the real worker ------------------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_410_gone_unsubscribes_an_integrations_hook_and_keeps_its_history(stack, httpserver, api, product):
    httpserver.expect_request("/zap").respond_with_data("this zap is off", status=410)
    hook = api.post("/api/v1/hooks", {"target_url": httpserver.url_for("/zap"), "event": "order"}).json()

    [notification] = event_record(owner=api.user, event_type="PURCHASE_APPROVED", product=product).notifications
    done = final(notification)

    wait_until(lambda: not Configuration.objects.filter(pk=hook["id"]).exists(), message="the hook to be unsubscribed")
    assert_error(api.get(f"/api/v1/hooks/{hook['id']}"), 404)
    assert len(requests_to(httpserver, "/zap")) == 1, "410 is final: no retry"
    kept = Notification.objects.get(pk=done.pk)
    assert kept.status == NotificationStatus.FAILED and kept.last_status_code == 410
    assert kept.configuration_id is None, "the configuration is gone, the notification stays"
    [attempt] = kept.attempts.all()
    assert attempt.response_status == 410 and attempt.request_url == httpserver.url_for("/zap")
    detail = api.get(f"/api/v1/notifications/{done.pk}").json()
    assert detail["attempts"][0]["status_code"] == 410 and detail["configuration"] is None
    # the next order reaches nobody
    assert event_record(owner=api.user, event_type="PURCHASE_APPROVED", product=product).notifications == []


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_410_gone_still_only_disables_a_configuration_made_by_hand(stack, httpserver, api, product):
    httpserver.expect_request("/gone").respond_with_data("gone", status=410)
    by_hand = configuration_create(
        owner=api.user, name="by hand", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/gone")
    )

    final(event_record(owner=api.user, event_type="PURCHASE_APPROVED", product=product).notifications[0])

    by_hand.refresh_from_db()
    assert by_hand.status == "disabled" and "410" in by_hand.disabled_reason
