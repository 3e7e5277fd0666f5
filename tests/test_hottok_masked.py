"""The hottok a notification carries in its body (always in the legacy 1.0 form, in some 2.0.0 events' JSON) is
masked on every surface that shows a body: the History page, the notification API, the command line, and the
inbox that caught it (its page, its API, its command); each shows it to its owner only when asked to reveal it.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from configurations.models import Account
from core.secrets import mask_secret
from inbox.models import InboxRequest
from inbox.services import inbox_create
from tests.api.conftest import Api, bearer_token
from tests.factories import ConfigurationFactory, ProductFactory
from tests.pages import page_of, record

pytestmark = pytest.mark.django_db

# (payload version, an event whose body carries the hottok in that version, a subscription product or not)
VERSIONS = [
    pytest.param(("1.0", "PURCHASE_APPROVED", False), id="legacy-1.0-form"),
    pytest.param(("2.0.0", "UPDATE_SUBSCRIPTION_CHARGE_DATE", True), id="2.0.0-json"),
]


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture(params=VERSIONS)
def sent(request, producer):
    """A notification whose body carries the producer's hottok, and that producer's hottok."""
    version, event_type, subscription = request.param
    ConfigurationFactory(owner=producer, events=[event_type], payload_version=version)
    [notification] = record(producer, ProductFactory(owner=producer, is_subscription=subscription), event_type)
    hottok = Account.objects.get(user=producer).hottok
    assert hottok in notification.payload, "the body carries the hottok"
    form = version == "1.0"
    assert notification.content_type == ("application/x-www-form-urlencoded" if form else "application/json")
    return notification, hottok


def test_the_history_page_masks_the_hottok_in_the_body(web, sent):
    notification, hottok = sent
    page = page_of(web.get(reverse("history:detail", args=[notification.pk])))
    assert hottok not in page
    assert mask_secret(hottok) in page and "hottok in the body is masked" in page


def test_the_notification_api_masks_the_hottok_unless_revealed(producer, sent):
    notification, hottok = sent
    api = Api(producer, bearer_token(producer))
    shown = api.get(f"/api/v1/notifications/{notification.pk}")
    assert shown.status_code == 200 and hottok not in shown.content.decode()
    assert mask_secret(hottok) in json.dumps(shown.json()["payload"], ensure_ascii=False)
    revealed = api.get(f"/api/v1/notifications/{notification.pk}", {"reveal": "true"}).json()
    assert hottok in json.dumps(revealed["payload"])


def test_the_command_line_masks_the_hottok_unless_revealed(sent):
    notification, hottok = sent
    assert hottok not in run("notifications", "show", str(notification.pk))
    shown = json.loads(run("notifications", "show", str(notification.pk), "--json"))
    assert hottok not in json.dumps(shown) and shown["payload"]["hottok"] == mask_secret(hottok)
    revealed = json.loads(run("notifications", "show", str(notification.pk), "--json", "--reveal"))
    assert revealed["payload"]["hottok"] == hottok


def test_the_inbox_that_caught_it_masks_the_hottok_everywhere_unless_revealed(web, producer, sent):
    notification, hottok = sent
    inbox = inbox_create(owner=producer, name="catcher")
    caught = Client().post(
        f"/inbox/{inbox.token}/",
        data=notification.payload.encode(),
        content_type=notification.content_type,
        HTTP_X_HOTMART_HOTTOK=hottok,
    )
    assert caught.status_code == 200
    [request] = InboxRequest.objects.filter(inbox=inbox)
    assert hottok.encode() in bytes(request.body), "kept as it came"

    page = page_of(web.get(reverse("inboxes:request", args=[inbox.pk, request.pk])))
    assert hottok not in page and mask_secret(hottok) in page

    api = Api(producer, bearer_token(producer))
    listed = api.get(f"/api/v1/inboxes/{inbox.pk}/requests")
    assert listed.status_code == 200 and hottok not in listed.content.decode()
    [item] = api.get(f"/api/v1/inboxes/{inbox.pk}/requests", {"reveal": "true"}).json()["items"]
    assert hottok in item["body"]

    username = producer.username
    assert hottok not in run("inbox", "show", str(request.pk), "--owner", username)
    assert hottok not in run("inbox", "show", str(request.pk), "--owner", username, "--json")
    revealed = json.loads(run("inbox", "show", str(request.pk), "--owner", username, "--json", "--reveal"))
    assert hottok in revealed["body"]


def test_the_admin_shows_the_payload_masked(admin_client, sent):
    notification, hottok = sent
    page = page_of(admin_client.get(reverse("admin:history_notification_change", args=[notification.pk])))
    assert hottok not in page and mask_secret(hottok) in page


def echo(request):
    """An httpbin-like receiver: it answers with the request's headers and body."""
    from werkzeug import Response

    body = json.dumps({"headers": dict(request.headers), "data": request.get_data(as_text=True)})
    return Response(body, status=200, headers={"X-Echo-Hottok": request.headers.get("X-HOTMART-HOTTOK", "")})


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("version", ["1.0", "2.0.0"])
def test_a_receiver_that_echoes_the_hottok_has_it_kept_masked(stack, httpserver, client_for, producer, version):
    from tests.engine.test_delivery import final, simulate

    httpserver.expect_request("/echo", method="POST").respond_with_handler(echo)
    ConfigurationFactory(owner=producer, events=["PURCHASE_APPROVED"], url=httpserver.url_for("/echo"),
                         payload_version=version)  # fmt: skip
    hottok = Account.objects.get(user=producer).hottok

    done = final(simulate(producer, ProductFactory(owner=producer)))

    [attempt] = done.attempts.all()
    assert attempt.response_status == 200 and "X-Hotmart-Hottok" in attempt.response_body, "it echoed"
    assert hottok not in attempt.response_body and hottok not in json.dumps(attempt.response_headers)
    assert mask_secret(hottok) in attempt.response_body
    page = page_of(client_for(producer).get(reverse("history:detail", args=[done.pk])))
    assert hottok not in page
