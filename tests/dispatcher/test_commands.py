"""The sandbox is scriptable: the management commands, their JSON, and their one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from catalogue.events import EventType
from configurations.models import Account, Configuration, Product
from history.models import Attempt, Notification
from inbox.models import Inbox
from tests.conftest import ROOT, _test_database_url
from tests.factories import ConfigurationFactory


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def run_json(*args: str):
    return json.loads(run(*args, "--json"))


def manage(*args: str) -> subprocess.CompletedProcess:
    """The real command line, against the test database."""
    env = {**os.environ, "DATABASE_URL": _test_database_url()}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_seed_demo_is_idempotent_and_shows_the_hottok_once(db):
    first = run("seed_demo")
    second = run("seed_demo")
    hottok = Account.objects.get(user__username="demo").hottok
    assert hottok in first and hottok not in second
    assert "--reveal" in second
    assert get_user_model().objects.filter(username="demo").count() == 1
    user = get_user_model().objects.get(username="demo")
    assert user.check_password("demo")
    assert Product.objects.filter(owner=user).count() == 2
    assert Product.objects.filter(owner=user, is_subscription=True).count() == 1
    # an inbox, and a configuration sending it every event, so the first simulated purchase visibly arrives
    [inbox] = Inbox.objects.filter(owner=user)
    [configuration] = Configuration.objects.filter(owner=user)
    assert configuration.url == f"http://127.0.0.1:9/inbox/{inbox.token}/" and configuration.is_active
    assert configuration.events == list(EventType.values)
    assert configuration.url in first and configuration.url in second


def test_hottok_is_masked_unless_revealed_and_can_be_regenerated(demo):
    hottok = Account.objects.get(user=demo).hottok
    masked = run("hottok", "--owner", "demo").strip()
    assert masked != hottok and masked.startswith(hottok[:4]) and masked.endswith(hottok[-4:])
    assert run("hottok", "--owner", "demo", "--reveal").strip() == hottok
    run("hottok", "--owner", "demo", "--regenerate")
    assert Account.objects.get(user=demo).hottok != hottok


def test_configurations_add_list_disable_enable_remove(demo):
    product = Product.objects.filter(owner=demo).first()
    added = run_json(
        "configurations",
        "add",
        "--owner",
        "demo",
        "--name",
        "Members area",
        "--event",
        "PURCHASE_APPROVED",
        "--event",
        "purchase_refunded,PURCHASE_CHARGEBACK",
        "--product",
        str(product.hotmart_id),
        "--url",
        "http://127.0.0.1:9000/hook",
    )
    assert added["events"] == ["PURCHASE_APPROVED", "PURCHASE_REFUNDED", "PURCHASE_CHARGEBACK"]
    assert added["product"] == product.hotmart_id and added["status"] == "active"

    everything = run_json(
        "configurations", "add", "--owner", "demo", "--name", "All", "--event", "ALL", "--url", "https://example.com/h"
    )
    assert len(everything["events"]) == 15 and everything["product"] is None

    listed = run_json("configurations", "list", "--owner", "demo")
    assert [c["name"] for c in listed] == ["Members area", "All"]

    disabled = run_json("configurations", "disable", str(added["id"]), "--reason", "maintenance")
    assert disabled["status"] == "disabled" and disabled["disabled_reason"] == "maintenance"
    enabled = run_json("configurations", "enable", str(added["id"]))
    assert enabled["status"] == "active" and enabled["disabled_reason"] is None

    run("configurations", "remove", str(added["id"]))
    assert not Configuration.objects.filter(pk=added["id"]).exists()


def test_simulate_prints_the_event_and_notification_ids(demo):
    ConfigurationFactory(owner=demo, events=["PURCHASE_APPROVED"])
    ConfigurationFactory(owner=demo, events=["PURCHASE_REFUNDED"])

    result = run_json("simulate", "PURCHASE_APPROVED", "--owner", "demo", "--buyer-email", "ana@example.com")

    assert result["event"]["type"] == "PURCHASE_APPROVED"
    assert result["event"]["buyer_email"] == "ana@example.com"
    assert result["notifications"] == list(Notification.objects.values_list("id", flat=True))
    assert len(result["notifications"]) == 1


def test_notifications_list_and_show(demo):
    configuration = ConfigurationFactory(owner=demo, events=["UPDATE_SUBSCRIPTION_CHARGE_DATE"])
    notification_id = run_json("simulate", "UPDATE_SUBSCRIPTION_CHARGE_DATE", "--owner", "demo")["notifications"][0]
    Attempt.objects.create(
        notification_id=notification_id,
        number=1,
        started_at="2026-11-28T10:00:00Z",
        duration_ms=12,
        request_url=configuration.url,
        request_headers={},
        request_body_sha256="0" * 64,
        response_status=-1,
        error_kind="connection_refused",
        error_message="connection refused",
    )

    listed = run_json("notifications", "list", "--owner", "demo")
    assert [n["id"] for n in listed] == [notification_id]
    shown = run_json("notifications", "show", str(notification_id))
    assert shown["id"] == notification_id and shown["status"] == "pending"
    assert shown["configuration"]["id"] == configuration.pk
    assert shown["payload"]["event"] == "UPDATE_SUBSCRIPTION_CHARGE_DATE"
    assert shown["attempts"] == [
        {**shown["attempts"][0], "number": 1, "status_code": -1, "error": "connection refused"}
    ]
    hottok = Account.objects.get(user=demo).hottok
    assert shown["payload"]["hottok"] != hottok, "the hottok inside this payload is masked"
    revealed = json.loads(run("notifications", "show", str(notification_id), "--json", "--reveal"))
    assert revealed["payload"]["hottok"] == hottok
    assert "PURCHASE" not in run("notifications", "list", "--status", "delivered")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "PURCHASE_EXPLODED", "--owner", "demo"], "Unknown event"),
        (["simulate", "PURCHASE_APPROVED", "--owner", "nobody"], "Unknown owner 'nobody'"),
        (["simulate", "PURCHASE_APPROVED", "--owner", "demo", "--product", "999"], "Unknown product 999"),
        (["simulate", "SWITCH_PLAN", "--owner", "demo", "--product", "4001001"], "not sold by subscription"),
        (
            [
                "configurations",
                "add",
                "--owner",
                "demo",
                "--name",
                "x",
                "--event",
                "PURCHASE_APPROVED",
                "--url",
                "ftp://x",
            ],
            "url: The URL must start with http:// or https://.",
        ),
        (
            ["configurations", "add", "--owner", "demo", "--name", "x", "--event", "NOPE", "--url", "http://a.com"],
            "events: Unknown event type NOPE",
        ),
        (
            ["configurations", "add", "--owner", "demo", "--name", "x", "--event", "ALL,FOO", "--url", "http://a.com"],
            "Unknown event type FOO",
        ),
        (["configurations", "enable", "424242"], "No configuration 424242"),
        (["notifications", "show", "424242"], "No notification 424242"),
    ],
)
def test_bad_input_raises_a_usage_error_with_status_2(demo, args, message):
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == 2
    assert message in str(caught.value)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "NOPE", "--owner", "demo"], "Unknown event 'NOPE'"),
        (["simulate", "PURCHASE_APPROVED", "--owner", "ghost"], "Unknown owner 'ghost'"),
        (
            [
                "configurations",
                "add",
                "--owner",
                "demo",
                "--name",
                "n",
                "--event",
                "PURCHASE_APPROVED",
                "--url",
                "nope",
            ],
            "must start with http:// or https://",
        ),
        (["simulate", "--owner", "demo"], "Name an EVENT, or give --transaction or --subscription"),
        (["configurations", "frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_the_command_line_exits_2_with_one_line(args, message):
    call_command("seed_demo", stdout=StringIO())
    result = manage(*args)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


def test_all_beside_an_unknown_event_saves_nothing(demo):
    with pytest.raises(CommandError):
        run(
            "configurations",
            "add",
            "--owner",
            "demo",
            "--name",
            "typo",
            "--event",
            "ALL",
            "--event",
            "PURCHASE_APROVED",
            "--url",
            "http://a.com",
        )
    assert not Configuration.objects.filter(name="typo").exists()
    added = run_json(
        "configurations", "add", "--owner", "demo", "--name", "every", "--event", "all", "--url", "http://a.com"
    )
    assert added["events"] == list(EventType.values)


@pytest.mark.django_db(transaction=True)
def test_seed_demo_refuses_production_mode_in_one_line():
    result = manage_in_production("seed_demo")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "sandbox only" in lines[0], result.stderr
    assert not get_user_model().objects.filter(username="demo").exists()


def manage_in_production(*args: str) -> subprocess.CompletedProcess:
    from tests.dispatcher.test_production import production_env

    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=60
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("args", [["notifications", "list"], ["configurations", "list"], ["seed_demo"]])
def test_a_reader_that_went_away_ends_the_command_quietly(args):
    call_command("seed_demo", stdout=StringIO())
    # `manage.py ... | head`, where head has already gone: the pipe has no reader left when the command writes.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": _test_database_url()},
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(writer)
    assert result.stderr == "", "no BrokenPipeError traceback"
    assert result.returncode == 141, "the exit status of a tool stopped by SIGPIPE"


def test_resend_test_post_and_bulk_resend_from_the_command_line(demo):
    configuration = ConfigurationFactory(owner=demo, events=["PURCHASE_APPROVED"])
    notification_id = run_json("simulate", "PURCHASE_APPROVED", "--owner", "demo")["notifications"][0]

    assert "requested" in run("notifications", "resend", str(notification_id))
    assert Notification.objects.get(pk=notification_id).resend_requested_at is not None

    test = run_json("configurations", "test", str(configuration.pk), "--event", "CLUB_FIRST_ACCESS", "--any-event")
    assert Notification.objects.get(pk=test["notification"]).is_test

    Notification.objects.filter(pk=notification_id).update(status="failed")
    out = run("notifications", "bulk-resend", "--configuration", str(configuration.pk), "--since", "2000-01-01")
    assert "1 notification of" in out
    with pytest.raises(CommandError) as caught:
        run("notifications", "bulk-resend", "--configuration", str(configuration.pk), "--since", "last week")
    assert caught.value.returncode == 2 and "--since" in str(caught.value)


def test_enabling_offers_to_resend_what_failed_or_stopped_while_disabled(demo):
    configuration = ConfigurationFactory(owner=demo, events=["PURCHASE_APPROVED"])
    # its receiver started failing (the engine set the clock at the first failed attempt)
    Configuration.objects.filter(pk=configuration.pk).update(failing_since=timezone.now())
    first, second = (run_json("simulate", "PURCHASE_APPROVED", "--owner", "demo")["notifications"][0] for _ in "ab")
    Notification.objects.filter(pk=first).update(status="failed")  # the failure that disabled it
    run("configurations", "disable", str(configuration.pk), "--reason", "maintenance")  # stops the second
    assert Notification.objects.get(pk=second).status == "cancelled"

    out = run("configurations", "enable", str(configuration.pk))

    assert "2 notifications failed or were stopped since its deliveries last worked" in out
    assert f"bulk-resend --configuration {configuration.pk}" in out
    since = out.split("--since ")[1].split()[0]
    started = run(
        "notifications",
        "bulk-resend",
        "--configuration",
        str(configuration.pk),
        "--since",
        since,
        "--status",
        "failed,cancelled",
    )
    assert "2 notifications" in started


def test_signing_from_the_command_line(demo):
    configuration = ConfigurationFactory(owner=demo)
    assert "Not signed" in run("configurations", "signing", str(configuration.pk))
    first = run("configurations", "signing", str(configuration.pk), "--rotate").split("shown once: ")[1].splitlines()[0]
    assert first.startswith("whsec_")
    listed = run("configurations", "signing", str(configuration.pk))
    assert first not in listed and first[:4] in listed
    assert first in run("configurations", "signing", str(configuration.pk), "--reveal")
    run("configurations", "signing", str(configuration.pk), "--rotate", "--overlap-hours", "1")
    assert "signs until" in run("configurations", "signing", str(configuration.pk))
    assert "off" in run("configurations", "signing", str(configuration.pk), "--disable")
    assert not Configuration.objects.get(pk=configuration.pk).signing_enabled


def test_configurations_show_prints_text_and_json_only_when_asked(demo):
    configuration = ConfigurationFactory(
        owner=demo, name="Shown", events=["PURCHASE_APPROVED", "PURCHASE_REFUNDED"], url="https://example.com/shown"
    )
    out = run("configurations", "show", str(configuration.pk))
    assert not out.lstrip().startswith("{"), "text, like the other commands"
    assert f"Configuration {configuration.pk} 'Shown' of demo" in out
    assert "url      https://example.com/shown" in out and "events   PURCHASE_APPROVED, PURCHASE_REFUNDED" in out
    assert run_json("configurations", "show", str(configuration.pk), "--json")["name"] == "Shown"


def test_a_test_post_from_the_command_line_sends_the_configurations_own_events(demo):
    configuration = ConfigurationFactory(owner=demo, events=["PURCHASE_REFUNDED", "PURCHASE_APPROVED"])
    out = run("configurations", "test", str(configuration.pk))
    assert out.startswith("Test post of PURCHASE_REFUNDED queued"), "its first event, without --event"
    with pytest.raises(CommandError) as caught:
        run("configurations", "test", str(configuration.pk), "--event", "SWITCH_PLAN")
    assert caught.value.returncode == 2
    assert "not subscribed to SWITCH_PLAN; it listens to PURCHASE_REFUNDED, PURCHASE_APPROVED" in str(caught.value)
    assert Notification.objects.filter(is_test=True).count() == 1
    run("configurations", "test", str(configuration.pk), "--event", "switch_plan", "--any-event")
    assert Notification.objects.filter(is_test=True, event_type="SWITCH_PLAN").count() == 1
