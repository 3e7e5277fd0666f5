"""The built-in inbox, through real HTTP (the app served by pytest-django's live server): it records every
request exactly, answers as its owner chose (status, delay, fail-first-N), is rate limited, capped and purged;
and the real worker's deliveries to it behave as they would against a real receiver."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
import requests
from django.core.exceptions import ValidationError
from django.utils import timezone

from configurations.models import Configuration
from configurations.services import configuration_create
from history.choices import NotificationStatus
from history.models import Notification
from inbox.models import Inbox, InboxRequest
from inbox.selectors import inbox_request_view, inbox_requests, inbox_url
from inbox.services import inbox_create, inbox_requests_purge_expired, inbox_reset, inbox_update
from sales.services import transaction_create
from tests.conftest import wait_until
from tests.engine.test_delivery import final

live = pytest.mark.django_db(transaction=True)


def url_of(live_server, inbox: Inbox, rest: str = "") -> str:
    return f"{live_server.url}/inbox/{inbox.token}/{rest}"


# --- Settings of an inbox -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"status_code": 600}, "status_code"),
        ({"status_code": 102}, "status_code"),
        ({"status_code": "200"}, "status_code"),
        ({"fail_status": 99}, "fail_status"),
        ({"delay_ms": 61_000}, "delay_ms"),
        ({"delay_ms": -1}, "delay_ms"),
        ({"fail_first": -2}, "fail_first"),
        ({"response_body": "x" * (64 * 1024 + 1)}, "response_body"),
        ({"response_content_type": ""}, "response_content_type"),
    ],
)
def test_bad_inbox_settings_name_the_field(producer, kwargs, field):
    with pytest.raises(ValidationError) as caught:
        inbox_create(owner=producer, **{"name": "inbox", **kwargs})
    assert field in caught.value.message_dict
    assert not Inbox.objects.exists()


def test_names_are_unique_per_owner_and_tokens_are_secret_and_distinct(producer):
    first = inbox_create(owner=producer, name="a")
    second = inbox_create(owner=producer, name="b")
    assert first.token != second.token and len(first.token) >= 24
    with pytest.raises(ValidationError) as caught:
        inbox_create(owner=producer, name="a")
    assert "already have an inbox" in caught.value.message_dict["name"][0]
    assert inbox_url(first) == f"http://127.0.0.1:9/inbox/{first.token}/"


# --- Real HTTP ----------------------------------------------------------------------------------------------


@live
def test_it_records_every_request_exactly_and_answers_what_its_owner_chose(live_server, producer):
    inbox = inbox_create(owner=producer, name="a", response_body="thanks!", response_content_type="text/plain")
    body = b'{"a": 1, "bytes": "\xc3\xa7"}\xff'

    response = requests.put(
        url_of(live_server, inbox, "deep/path?x=1&y=2"),
        data=body,
        headers={"Content-Type": "application/json", "X-HOTMART-HOTTOK": "secret-token-1234567890"},
        timeout=5,
    )

    assert response.status_code == 200 and response.text == "thanks!"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["X-Inbox-Request"] == "1"
    [caught] = InboxRequest.objects.filter(inbox=inbox)
    assert caught.method == "PUT" and caught.path == "/deep/path?x=1&y=2"
    assert bytes(caught.body) == body and caught.body_size == len(body) and not caught.body_truncated
    assert caught.headers["X-Hotmart-Hottok"] == "secret-token-1234567890"
    assert caught.response_status == 200 and caught.remote_addr == "127.0.0.1"
    shown = inbox_request_view(caught)
    assert shown.headers["X-Hotmart-Hottok"] == "secr…7890", "masked unless revealed"
    assert inbox_request_view(caught, reveal=True).headers["X-Hotmart-Hottok"] == "secret-token-1234567890"


@live
def test_behind_a_trusted_proxy_it_records_the_clients_address(live_server, producer, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the live server sees every request from here, as from a proxy
    inbox = inbox_create(owner=producer, name="proxied")
    requests.post(url_of(live_server, inbox), data=b"{}", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=5)
    settings.TRUSTED_PROXIES = []
    requests.post(url_of(live_server, inbox), data=b"{}", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=5)
    assert [r.remote_addr for r in InboxRequest.objects.order_by("number")] == ["203.0.113.9", "127.0.0.1"]


@live
def test_it_answers_the_status_its_owner_chose(live_server, producer):
    inbox = inbox_create(owner=producer, name="gone", status_code=410)
    response = requests.post(url_of(live_server, inbox), data=b"{}", timeout=5)
    assert response.status_code == 410
    assert InboxRequest.objects.get(inbox=inbox).response_status == 410


@live
def test_it_fails_the_first_n_requests_then_succeeds(live_server, producer):
    inbox = inbox_create(owner=producer, name="flaky", fail_first=2, fail_status=503)

    statuses = [requests.post(url_of(live_server, inbox), data=b"x", timeout=5).status_code for _ in range(4)]

    assert statuses == [503, 503, 200, 200]
    assert [r.number for r in inbox_requests(inbox_id=inbox.pk)] == [4, 3, 2, 1]
    inbox_reset(inbox=inbox)
    assert InboxRequest.objects.filter(inbox=inbox).count() == 0
    assert requests.post(url_of(live_server, inbox), timeout=5).status_code == 503, "a reset starts the count again"
    inbox_update(inbox=inbox, fail_first=0)
    assert requests.post(url_of(live_server, inbox), timeout=5).status_code == 200


@live
def test_it_hangs_as_long_as_asked_with_the_request_already_recorded(live_server, producer):
    inbox = inbox_create(owner=producer, name="slow", delay_ms=1500)
    result = {}

    def call():
        started = time.monotonic()
        result["status"] = requests.post(url_of(live_server, inbox), data=b"x", timeout=10).status_code
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=call)
    thread.start()
    wait_until(lambda: InboxRequest.objects.filter(inbox=inbox).exists(), timeout=5, message="the request recorded")
    assert "status" not in result, "it is still hanging"
    thread.join(timeout=10)
    assert result["status"] == 200 and result["seconds"] >= 1.5


@live
def test_it_is_rate_limited_and_refused_requests_are_not_stored(live_server, producer, settings):
    settings.INBOX = {**settings.INBOX, "RATE_LIMIT": 3, "RATE_WINDOW": 60}
    inbox = inbox_create(owner=producer, name="busy")

    responses = [requests.post(url_of(live_server, inbox), data=b"x", timeout=5) for _ in range(5)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    assert 1 <= int(responses[-1].headers["Retry-After"]) <= 60
    assert "at most 3 per 60 s" in responses[-1].json()["error"]
    assert InboxRequest.objects.filter(inbox=inbox).count() == 3
    other = inbox_create(owner=producer, name="quiet")
    assert requests.post(url_of(live_server, other), timeout=5).status_code == 200, "the limit is per inbox"


@live
def test_stored_requests_are_capped_keeping_the_newest(live_server, producer, settings):
    settings.INBOX = {**settings.INBOX, "MAX_REQUESTS": 5}
    inbox = inbox_create(owner=producer, name="capped")

    for _ in range(8):
        requests.post(url_of(live_server, inbox), data=b"x", timeout=5)

    assert sorted(InboxRequest.objects.filter(inbox=inbox).values_list("number", flat=True)) == [4, 5, 6, 7, 8]


@live
def test_a_large_body_is_kept_up_to_the_cap_and_flagged(live_server, producer, settings):
    settings.INBOX = {**settings.INBOX, "MAX_BODY_BYTES": 1024}
    inbox = inbox_create(owner=producer, name="big")

    response = requests.post(url_of(live_server, inbox), data=b"a" * 5000, timeout=5)

    assert response.status_code == 200
    caught = InboxRequest.objects.get(inbox=inbox)
    assert bytes(caught.body) == b"a" * 1024 and caught.body_size == 5000 and caught.body_truncated


@live
def test_an_unknown_inbox_or_a_disabled_one_answers_404(live_server, producer, settings):
    assert requests.post(f"{live_server.url}/inbox/nope/", timeout=5).status_code == 404
    inbox = inbox_create(owner=producer, name="off")
    settings.INBOX = {**settings.INBOX, "ENABLED": False}
    response = requests.post(url_of(live_server, inbox), timeout=5)
    assert response.status_code == 404 and "INBOX_ENABLED" in response.json()["error"]
    assert not InboxRequest.objects.exists()


def test_expired_requests_are_purged(producer):
    inbox = inbox_create(owner=producer, name="old")
    now = timezone.now()
    for hours in (1, 100):
        InboxRequest.objects.create(
            inbox=inbox,
            number=hours,
            received_at=now - timedelta(hours=hours),
            method="POST",
            path="/",
            response_status=200,
        )

    assert inbox_requests_purge_expired(now=now) == 1
    assert list(InboxRequest.objects.values_list("number", flat=True)) == [1]


def test_the_purge_runs_on_celery_beat():
    from dispatcher.celery import app

    app.finalize()
    app.loader.import_default_modules()  # what a worker does at start: the apps' tasks modules
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "inbox.purge" in tasks
    assert "inbox.purge" in app.tasks
    assert app.amqp.router.route({}, "inbox.purge")["queue"].name == "maintenance"


# --- Deliveries to an inbox, through the real worker --------------------------------------------------------


@pytest.mark.integration
@live
def test_a_delivery_to_an_inbox_that_fails_twice_succeeds_on_the_third_attempt(stack, live_server, producer, product):
    inbox = inbox_create(owner=producer, name="flaky", fail_first=2)
    configuration_create(owner=producer, name="inbox", events=["PURCHASE_APPROVED"], url=url_of(live_server, inbox))

    outcome = transaction_create(owner=producer, product=product)
    done = final(outcome.notifications[0])

    assert done.status == NotificationStatus.DELIVERED
    assert [a.response_status for a in done.attempts.all()] == [500, 500, 200]
    caught = inbox_requests(inbox_id=inbox.pk)
    assert [r.response_status for r in reversed(caught)] == [500, 500, 200]
    last = InboxRequest.objects.get(pk=caught[0].pk)
    assert bytes(last.body) == done.payload.encode("utf-8")
    assert last.headers["X-Hotmart-Hottok"] == producer.webhook_account.hottok
    assert last.headers["X-Dispatcher-Attempt"] == "3"


@pytest.mark.integration
@live
def test_an_inbox_answering_410_disables_the_configuration(stack, live_server, producer, product):
    inbox = inbox_create(owner=producer, name="gone", status_code=410)
    configuration = configuration_create(
        owner=producer, name="inbox", events=["PURCHASE_APPROVED"], url=url_of(live_server, inbox)
    )

    done = final(transaction_create(owner=producer, product=product).notifications[0])

    assert done.status == NotificationStatus.FAILED and done.attempt_count == 1
    configuration.refresh_from_db()
    assert configuration.status == Configuration.Status.DISABLED and "410" in configuration.disabled_reason


@pytest.mark.integration
@live
def test_an_inbox_that_hangs_makes_the_delivery_time_out(stack, live_server, producer, product):
    inbox = inbox_create(owner=producer, name="slow", delay_ms=2500)  # the worker's read timeout is 1 s
    configuration_create(owner=producer, name="inbox", events=["PURCHASE_APPROVED"], url=url_of(live_server, inbox))
    notification = transaction_create(owner=producer, product=product).notifications[0]

    wait_until(lambda: notification.attempts.exists(), timeout=20, message="the first attempt")

    first = notification.attempts.first()
    assert first.response_status == -1 and first.error_kind == "read_timeout"
    assert InboxRequest.objects.filter(inbox=inbox).exists(), "the inbox saw it, the dispatcher gave up waiting"
    inbox_update(inbox=inbox, delay_ms=0)
    assert final(notification).status == NotificationStatus.DELIVERED


@pytest.mark.integration
@live
def test_the_demos_first_simulated_purchase_visibly_arrives_in_its_inbox(stack, live_server, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.INBOX = {**settings.INBOX, "BASE_URL": live_server.url}  # where `make run` serves the app
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("simulate", "PURCHASE_APPROVED", "--owner", "demo", "--json", stdout=out)
    sale = json.loads(out.getvalue())

    inbox = Inbox.objects.get(owner__username="demo", name="Demo inbox")
    caught = wait_until(
        lambda: InboxRequest.objects.filter(inbox=inbox).first(), timeout=20, message="the purchase in the inbox"
    )
    assert json.loads(bytes(caught.body))["data"]["purchase"]["transaction"] == sale["transaction"]["transaction"]
    assert final(Notification.objects.get(pk=sale["notifications"][0])).status == NotificationStatus.DELIVERED


def test_bad_inbox_settings_are_reported_at_start(settings):
    from inbox.checks import check_inbox_settings

    assert check_inbox_settings() == []
    settings.INBOX = {**settings.INBOX, "BASE_URL": "ftp://x", "RATE_LIMIT": 0, "MAX_DELAY": -1}
    ids = sorted(error.id for error in check_inbox_settings())
    assert ids == ["inbox.E002", "inbox.E003", "inbox.E004"]
    settings.INBOX = {**settings.INBOX, "RATE_LIMIT": "many"}
    assert [error.id for error in check_inbox_settings()] == ["inbox.E001"]


@pytest.mark.parametrize(
    ("addrport", "base"),
    [
        ("127.0.0.1:8014", "http://127.0.0.1:8014"),
        ("0.0.0.0:8000", "http://127.0.0.1:8000"),
        ("9000", "http://127.0.0.1:9000"),
    ],
)
def test_inbox_urls_follow_where_the_sandbox_serves(addrport, base):
    from dispatcher.settings import _base_url

    assert _base_url(addrport) == base
