"""The API's main flows end to end, through the real token endpoint, the real worker and a real receiver:
get a token, create a configuration, simulate a purchase, read the notification and its attempts, resend."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from history.choices import NotificationStatus
from history.models import Notification
from tests.api.conftest import Api, token_from_endpoint
from tests.conftest import wait_until
from tests.engine.test_delivery import requests_to

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def notification_when(api: Api, notification_id: int, predicate, message: str) -> dict:
    def check():
        body = api.get(f"/api/v1/notifications/{notification_id}").json()
        return body if predicate(body) else None

    return wait_until(check, timeout=30, message=message)


def test_token_configuration_purchase_notification(stack, httpserver, producer, product):
    httpserver.expect_ordered_request("/hook").respond_with_data("thanks", status=200)
    httpserver.expect_ordered_request("/hook").respond_with_data("again", status=202)
    api = Api(producer, token_from_endpoint(producer))

    configuration = api.post(
        "/api/v1/configurations",
        {"name": "Members area", "events": ["PURCHASE_APPROVED"], "url": httpserver.url_for("/hook")},
    ).json()
    recorded = api.post("/api/v1/events", {"event_type": "PURCHASE_APPROVED", "buyer_email": "ana@example.com"})
    assert recorded.status_code == 201
    [summary] = recorded.json()["notifications"]
    assert summary["configuration"]["id"] == configuration["id"]

    delivered = notification_when(api, summary["id"], lambda b: b["status"] == "delivered", "the delivery")

    [request] = requests_to(httpserver, "/hook")
    sent = json.loads(request.get_data())
    assert sent["id"] == recorded.json()["event"]["id"] == delivered["event"]
    assert sent["data"]["buyer"]["email"] == "ana@example.com"
    assert delivered["payload"]["data"] == sent["data"]
    [attempt] = delivered["attempts"]
    assert attempt["status_code"] == 200 and attempt["response_body"] == "thanks"
    assert attempt["trigger"] == "automatic" and attempt["url"] == httpserver.url_for("/hook")
    assert attempt["request_headers"]["X-HOTMART-HOTTOK"] != api.get("/api/v1/account").json()["hottok"]

    resend = api.post(f"/api/v1/notifications/{summary['id']}/resend")
    assert resend.status_code == 202
    again = notification_when(api, summary["id"], lambda b: len(b["attempts"]) == 2, "the manual attempt")
    assert again["attempts"][1]["trigger"] == "manual" and again["attempts"][1]["status_code"] == 202
    assert requests_to(httpserver, "/hook")[1].get_data() == request.get_data(), "a resend sends the same bytes"


def test_bulk_resend_job_progress_through_the_api(stack, httpserver, producer, product):
    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    api = Api(producer, token_from_endpoint(producer))
    configuration = api.post(
        "/api/v1/configurations",
        {"name": "receiver", "events": ["PURCHASE_APPROVED"], "url": httpserver.url_for("/hook")},
    ).json()
    ids = [
        api.post("/api/v1/events", {"event_type": "PURCHASE_APPROVED"}).json()["notifications"][0]["id"]
        for _ in range(3)
    ]
    for notification_id in ids:
        notification_when(api, notification_id, lambda b: b["status"] == "delivered", "the first deliveries")
    Notification.objects.filter(pk__in=ids).update(status=NotificationStatus.FAILED)  # as if they had failed

    job = api.post(
        "/api/v1/bulk-resends",
        {"configuration": configuration["id"], "window_start": (timezone.now() - timedelta(hours=1)).isoformat()},
    ).json()
    assert job["total"] == 3

    def finished():
        body = api.get(f"/api/v1/bulk-resends/{job['id']}").json()
        return body if body["status"] == "done" and body["sent"] == 3 else None

    done = wait_until(finished, timeout=30, message="the bulk resend job")
    assert done["requested"] == 3 and done["progress"] == 1.0
    assert len(requests_to(httpserver, "/hook")) == 6
