"""/api/v1/notifications and /api/v1/bulk-resends: the History page's filters and paging, detail, resends."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from configurations.models import Account
from configurations.services import configuration_create
from history.choices import NotificationStatus
from history.models import BulkResend, Notification
from history.publishing import configuration_remove, configuration_test_post, event_record
from tests.api.conftest import assert_error
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/webhook"


def simulate(user, product, event_type="PURCHASE_APPROVED", **kwargs):
    return event_record(owner=user, event_type=event_type, product=product, **kwargs).notifications


@pytest.fixture
def configuration(producer):
    return configuration_create(
        owner=producer, name="receiver", events=["PURCHASE_APPROVED", "PURCHASE_REFUNDED"], url=URL
    )


def ids(response):
    assert response.status_code == 200, response.content
    return [n["id"] for n in response.json()["items"]]


def test_list_is_newest_first_and_only_the_callers(api, other_api, configuration, product):
    mine = [simulate(api.user, product)[0].pk for _ in range(3)]
    theirs_config = configuration_create(owner=other_api.user, name="x", events=["PURCHASE_APPROVED"], url=URL)
    event_record(owner=other_api.user, event_type="PURCHASE_APPROVED", product=theirs_config.owner.products.first())

    assert ids(api.get("/api/v1/notifications")) == mine[::-1]


def test_pages_follow_the_next_page_token_to_the_end(api, configuration, product):
    made = [simulate(api.user, product)[0].pk for _ in range(5)][::-1]

    first = api.get("/api/v1/notifications", {"max_results": 2})
    token = first.json()["page_info"]["next_page_token"]
    second = api.get("/api/v1/notifications", {"max_results": 2, "page_token": token})
    third = api.get(
        "/api/v1/notifications", {"max_results": 2, "page_token": second.json()["page_info"]["next_page_token"]}
    )

    assert ids(first) + ids(second) + ids(third) == made
    assert first.json()["page_info"]["results_per_page"] == 2
    assert third.json()["page_info"]["next_page_token"] is None


def test_filters_narrow_the_list(api, configuration, product):
    approved = simulate(api.user, product, buyer_email="ana@example.com")[0]
    refunded = simulate(api.user, product, "PURCHASE_REFUNDED")[0]
    Notification.objects.filter(pk=refunded.pk).update(status=NotificationStatus.FAILED)
    test_post = configuration_test_post(owner=api.user, configuration=configuration, event_type="PURCHASE_APPROVED")
    other = configuration_create(owner=api.user, name="other", events=["PURCHASE_APPROVED"], url=URL + "2")
    Notification.objects.filter(pk=test_post.pk).update(created_at=timezone.now() - timedelta(days=3))

    assert ids(api.get("/api/v1/notifications", {"status": "failed"})) == [refunded.pk]
    assert ids(api.get("/api/v1/notifications", {"event_type": "PURCHASE_REFUNDED"})) == [refunded.pk]
    assert ids(api.get("/api/v1/notifications", {"q": "ana@example.com"})) == [approved.pk]
    assert ids(api.get("/api/v1/notifications", {"q": approved.event.transaction})) == [approved.pk]
    assert ids(api.get("/api/v1/notifications", {"is_test": "true"})) == [test_post.pk]
    assert test_post.pk not in ids(api.get("/api/v1/notifications", {"is_test": "false"}))
    assert ids(api.get("/api/v1/notifications", {"configuration": other.pk})) == []
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert set(ids(api.get("/api/v1/notifications", {"since": since}))) == {approved.pk, refunded.pk}
    assert ids(api.get("/api/v1/notifications", {"until": since})) == [test_post.pk]


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"status": "lost"}, "status", "invalid_choice"),
        ({"event_type": "NOPE"}, "event_type", "invalid_choice"),
        ({"configuration": "abc"}, "configuration", "invalid"),
        ({"since": "yesterday"}, "since", "invalid"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since", "invalid"),
        ({"is_test": "maybe"}, "is_test", "invalid"),
        ({"max_results": 0}, "max_results", "min_value"),
        ({"max_results": 1000}, "max_results", "max_value"),
        ({"page_token": "not-a-token"}, "page_token", "invalid"),
        ({"page_token": "MjAyNi0wMS0wMVQwMDowMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"}, "page_token", "invalid"),
        ({"q": "x" * 300}, "q", "max_length"),
    ],
)
def test_bad_filters_answer_400_naming_the_parameter(api, params, field, code):
    assert_error(api.get("/api/v1/notifications", params), 400, field=field, code=code)


def test_detail_has_the_payload_with_the_hottok_masked_unless_revealed(api, producer):
    product = ProductFactory(owner=producer, is_subscription=True)
    configuration_create(owner=producer, name="subs", events=["UPDATE_SUBSCRIPTION_CHARGE_DATE"], url=URL)
    [notification] = simulate(producer, product, "UPDATE_SUBSCRIPTION_CHARGE_DATE")
    hottok = Account.objects.get(user=producer).hottok

    masked = api.get(f"/api/v1/notifications/{notification.pk}").json()
    revealed = api.get(f"/api/v1/notifications/{notification.pk}", {"reveal": "true"}).json()

    sent = json.loads(notification.payload)
    assert revealed["payload"] == sent and revealed["payload"]["hottok"] == hottok
    assert masked["payload"]["hottok"] != hottok and masked["payload"]["hottok"].startswith(hottok[:4])
    assert masked["payload"]["id"] == sent["id"] == masked["event"]
    assert masked["transaction"] == notification.event.transaction
    assert masked["attempts"] == [] and masked["status"] == "pending"


def test_another_producers_notification_answers_404(api, other_api):
    configuration_create(owner=other_api.user, name="x", events=["PURCHASE_APPROVED"], url=URL)
    [theirs] = event_record(
        owner=other_api.user, event_type="PURCHASE_APPROVED", product=other_api.user.products.first()
    ).notifications

    assert_error(api.get(f"/api/v1/notifications/{theirs.pk}"), 404, code="not_found")
    assert_error(api.post(f"/api/v1/notifications/{theirs.pk}/resend"), 404, code="not_found")
    assert Notification.objects.get(pk=theirs.pk).resend_requested_at is None


def test_resend_asks_for_a_manual_attempt(api, configuration, product):
    [notification] = simulate(api.user, product)
    Notification.objects.filter(pk=notification.pk).update(status=NotificationStatus.FAILED)

    response = api.post(f"/api/v1/notifications/{notification.pk}/resend")

    assert response.status_code == 202
    assert response.json()["resend_requested"] is True and response.json()["status"] == "failed"
    assert Notification.objects.get(pk=notification.pk).resend_requested_at is not None


def test_resending_what_has_no_configuration_left_is_a_409(api, configuration, product):
    [notification] = simulate(api.user, product)
    configuration_remove(configuration=configuration)

    body = assert_error(api.post(f"/api/v1/notifications/{notification.pk}/resend"), 409, code="configuration_removed")
    assert "removed" in body["message"]


def test_resending_a_scheduled_notification_before_its_moment_is_a_409(api, configuration, product):
    [notification] = simulate(api.user, product, occurred_at=timezone.now() + timedelta(days=2))

    body = assert_error(api.post(f"/api/v1/notifications/{notification.pk}/resend"), 409, code="scheduled")

    assert "sent then, never before" in body["message"]
    assert Notification.objects.get(pk=notification.pk).resend_requested_at is None


# --- Bulk resends -----------------------------------------------------------------------------------------


def test_bulk_resend_answers_a_job_whose_progress_is_readable(api, configuration, product):
    failed = [simulate(api.user, product)[0] for _ in range(3)]
    Notification.objects.filter(pk__in=[n.pk for n in failed[:2]]).update(status=NotificationStatus.FAILED)
    since = (timezone.now() - timedelta(hours=1)).isoformat()

    response = api.post("/api/v1/bulk-resends", {"configuration": configuration.pk, "window_start": since})

    assert response.status_code == 202, response.content
    job = response.json()
    assert job["configuration"] == configuration.pk and job["statuses"] == ["failed"]
    assert job["total"] == 2 and job["status"] == "queued" and job["progress"] == 0.0 and job["sent"] == 0
    read = api.get(f"/api/v1/bulk-resends/{job['id']}")
    assert read.status_code == 200 and read.json()["id"] == job["id"]
    assert [j["id"] for j in api.get("/api/v1/bulk-resends").json()["items"]] == [job["id"]]


def test_another_producers_job_answers_404_and_their_configuration_400(api, other_api):
    theirs = configuration_create(owner=other_api.user, name="x", events=["PURCHASE_APPROVED"], url=URL)
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    job = other_api.post("/api/v1/bulk-resends", {"configuration": theirs.pk, "window_start": since}).json()

    assert_error(api.get(f"/api/v1/bulk-resends/{job['id']}"), 404, code="not_found")
    assert_error(
        api.post("/api/v1/bulk-resends", {"configuration": theirs.pk, "window_start": since}),
        400,
        field="configuration",
    )
    assert api.get("/api/v1/bulk-resends").json()["items"] == []
    assert BulkResend.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"window_start": "2026-01-01T00:00:00Z"}, "configuration", "required"),
        ({"window_start": "2026-01-02T00:00:00Z", "window_end": "2026-01-01T00:00:00Z"}, "window_start", "invalid"),
        ({"window_start": "soon"}, "window_start", "invalid"),
        ({"window_start": "2026-01-01T00:00:00Z", "statuses": ["lost"]}, "statuses.0", "invalid_choice"),
        ({"window_start": "2026-01-01T00:00:00Z", "statuses": []}, "statuses", "min_length"),
    ],
)
def test_bad_bulk_resend_input_is_named(api, configuration, data, field, code):
    data = {"configuration": configuration.pk, **data} if field != "configuration" else data
    assert_error(api.post("/api/v1/bulk-resends", data), 400, field=field, code=code)
    assert not BulkResend.objects.exists()
