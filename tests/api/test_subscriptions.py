"""/api/v1/subscriptions: read, list, renew, cancel, switch plan and change the charge day; each action answers
its event and notifications, only where the subscription's status allows it, and every bad input is named."""

from __future__ import annotations

import pytest

from history.models import Event
from sales.models import Subscription
from sales.services import transaction_create
from tests.api.conftest import Api, assert_error, bearer_token

pytestmark = pytest.mark.django_db


def subscribe(api: Api, club, **data) -> str:
    response = api.post("/api/v1/transactions", {"product": club.hotmart_id, **data})
    assert response.status_code == 201, response.content
    return response.json()["subscription"]["subscriber_code"]


def act(api: Api, code: str, action: str, data=None):
    return api.post(f"/api/v1/subscriptions/{code}/{action}", data or {})


def test_read_a_subscription_with_its_charges_plans_and_possible_actions(api, club):
    code = subscribe(api, club, buyer_email="sub@example.com")

    response = api.get(f"/api/v1/subscriptions/{code.lower()}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["subscriber_code"] == code and body["status"] == "ACTIVE" and body["plan"] == "monthly"
    assert body["buyer_email"] == "sub@example.com" and body["recurrence_number"] == 1
    assert body["actions"] == {
        "renew": True,
        "cancel": True,
        "switch_plan": True,
        "change_charge_day": True,
        "reason": None,
    }
    [charge] = body["charges"]
    assert charge["subscription"] == code and charge["recurrence_number"] == 1 and charge["status"] == "APPROVED"
    assert [p["key"] for p in body["plans"]] == ["monthly", "quarterly", "yearly"]
    assert body["plans"][0]["price"] == "49.90"


def test_renewing_charges_the_next_recurrence(api, club, listener):
    code = subscribe(api, club)

    response = act(api, code, "renew")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["event"]["event_type"] == "PURCHASE_APPROVED"
    assert body["transaction"]["recurrence_number"] == 2 and body["transaction"]["subscription"] == code
    assert body["subscription"]["recurrence_number"] == 2
    assert body["notifications"][0]["configuration"]["id"] == listener.pk
    assert [c["recurrence_number"] for c in api.get(f"/api/v1/subscriptions/{code}").json()["charges"]] == [1, 2]


def test_a_refused_renewal_delays_the_subscription(api, club):
    code = subscribe(api, club)
    body = act(api, code, "renew", {"refused": True}).json()
    assert body["event"]["event_type"] == "PURCHASE_DELAYED" and body["subscription"]["status"] == "DELAYED"
    assert body["subscription"]["actions"]["renew"] is False and "DELAYED" in body["subscription"]["actions"]["reason"]


def test_a_renewal_waits_for_the_pending_charge(api, club):
    code = subscribe(api, club, payment_type="billet")
    [first] = api.get(f"/api/v1/subscriptions/{code}").json()["charges"]
    api.post(f"/api/v1/transactions/{first['transaction']}/transition", {"to": "approved"})
    act(api, code, "renew")  # a second billet, still unpaid

    body = assert_error(act(api, code, "renew"), 400, field="subscription")
    assert "still BILLET_PRINTED" in body["message"]
    assert Subscription.objects.get().recurrence_number == 2


def test_switching_plan_and_charge_day_send_their_events(api, club, listener):
    code = subscribe(api, club)

    day = 3 if Subscription.objects.get().charge_day != 3 else 4  # another day than today's

    switched = act(api, code, "switch-plan", {"plan": "quarterly"})
    moved = act(api, code, "charge-day", {"day": day})

    assert switched.status_code == 200 and switched.json()["event"]["event_type"] == "SWITCH_PLAN"
    assert switched.json()["subscription"]["plan"] == "quarterly"
    assert switched.json()["subscription"]["previous_plan"] == "monthly"
    assert moved.status_code == 200 and moved.json()["event"]["event_type"] == "UPDATE_SUBSCRIPTION_CHARGE_DATE"
    assert moved.json()["subscription"]["charge_day"] == day
    assert moved.json()["subscription"]["date_next_charge"][8:10] == f"{day:02d}"
    assert [n["event_type"] for n in moved.json()["notifications"]] == ["UPDATE_SUBSCRIPTION_CHARGE_DATE"]


def test_cancelling_ends_every_other_action(api, club, listener):
    code = subscribe(api, club)

    body = act(api, code, "cancel", {"by": "seller"}).json()

    assert body["event"]["event_type"] == "SUBSCRIPTION_CANCELLATION"
    assert body["subscription"]["status"] == "CANCELLED_BY_SELLER" and body["subscription"]["cancelled_at"]
    assert not any(v for k, v in body["subscription"]["actions"].items() if k != "reason")
    assert "already CANCELLED_BY_SELLER" in assert_error(act(api, code, "cancel"), 400, field="subscription")["message"]
    day = 3 if Subscription.objects.get().charge_day != 3 else 4
    for action, data in [("renew", {}), ("switch-plan", {"plan": "yearly"}), ("charge-day", {"day": day})]:
        assert_error(act(api, code, action, data), 400, field="subscription")
    assert Event.objects.filter(event_type="SUBSCRIPTION_CANCELLATION").count() == 1


@pytest.mark.parametrize(
    ("action", "data", "field", "code"),
    [
        ("cancel", {"by": "robot"}, "by", "invalid_choice"),
        ("switch-plan", {}, "plan", "required"),
        ("switch-plan", {"plan": "weekly"}, "plan", "invalid"),
        ("switch-plan", {"plan": "monthly"}, "plan", "invalid"),  # it is on it already
        ("charge-day", {}, "day", "required"),
        ("charge-day", {"day": 32}, "day", "max_value"),
        ("charge-day", {"day": "first"}, "day", "invalid"),
        ("renew", {"refused": "maybe"}, "refused", "invalid"),
        ("renew", {"at": "2001-01-01T00:00:00Z"}, "at", "invalid"),  # before the subscription began
    ],
)
def test_bad_subscription_input_is_named(api, club, action, data, field, code):
    subscription = subscribe(api, club)
    before = Event.objects.count()
    assert_error(act(api, subscription, action, data), 400, field=field, code=code)
    assert Event.objects.count() == before


def test_a_charge_day_already_in_use_is_refused(api, club):
    code = subscribe(api, club)
    day = Subscription.objects.get().charge_day
    assert "already charged" in assert_error(act(api, code, "charge-day", {"day": day}), 400, field="day")["message"]


def test_the_list_is_newest_first_paged_filtered_and_only_the_callers(api, other_api, club):
    made = [subscribe(api, club) for _ in range(3)][::-1]
    act(api, made[0], "cancel")
    theirs = other_api.user.products.get()
    theirs.is_subscription = True
    theirs.save()
    transaction_create(owner=other_api.user, product=theirs)

    first = api.get("/api/v1/subscriptions", {"max_results": 2}).json()
    second = api.get(
        "/api/v1/subscriptions", {"max_results": 2, "page_token": first["page_info"]["next_page_token"]}
    ).json()
    cancelled = api.get("/api/v1/subscriptions", {"status": "CANCELLED_BY_CUSTOMER"}).json()

    assert [s["subscriber_code"] for s in first["items"] + second["items"]] == made
    assert second["page_info"]["next_page_token"] is None
    assert [s["subscriber_code"] for s in cancelled["items"]] == [made[0]]
    assert_error(api.get("/api/v1/subscriptions", {"status": "ON"}), 400, field="status", code="invalid_choice")
    assert_error(api.get("/api/v1/subscriptions", {"page_token": "x"}), 400, field="page_token")


def test_another_producers_subscription_is_not_found(api, other_api):
    theirs = other_api.user.products.get()
    theirs.is_subscription = True
    theirs.save()
    code = transaction_create(owner=other_api.user, product=theirs).subscription.subscriber_code

    assert_error(api.get(f"/api/v1/subscriptions/{code}"), 404, code="not_found")
    for action, data in [
        ("renew", {}),
        ("cancel", {}),
        ("switch-plan", {"plan": "yearly"}),
        ("charge-day", {"day": 2}),
    ]:
        assert_error(act(api, code, action, data), 404, code="not_found")
    assert Subscription.objects.get().status == "ACTIVE"


def test_a_read_only_token_cannot_change_a_subscription(producer, club):
    code = transaction_create(owner=producer, product=club).subscription.subscriber_code
    reader = Api(producer, bearer_token(producer, scope="read"))

    assert reader.get(f"/api/v1/subscriptions/{code}").status_code == 200
    for action, data in [
        ("renew", {}),
        ("cancel", {}),
        ("switch-plan", {"plan": "yearly"}),
        ("charge-day", {"day": 2}),
    ]:
        assert_error(act(reader, code, action, data), 403, code="permission_denied")
    assert Subscription.objects.get().recurrence_number == 1 and Event.objects.count() == 1
