"""Scenarios: the shipped examples replay whole customer stories; the story's clock; a failing scenario
records nothing and says which step failed; bad files get one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from configurations.models import Configuration
from history.models import Event, Notification
from inbox.models import Inbox
from sales.models import Purchase, Subscription
from sales.scenarios import ScenarioError, duration_parse, scenario_parse, scenario_run
from tests.conftest import ROOT, _test_database_url
from tests.dispatcher.test_commands import manage

EXAMPLES = sorted((ROOT / "scenarios").glob("*.*"))

EXPECTED = {
    "affiliate-billet.yaml": ["PURCHASE_BILLET_PRINTED", "PURCHASE_APPROVED"],
    "billet-paid-late.yaml": ["PURCHASE_BILLET_PRINTED", "PURCHASE_DELAYED", "PURCHASE_APPROVED", "PURCHASE_COMPLETE"],
    "card-approved-then-completed.json": ["PURCHASE_APPROVED", "CLUB_FIRST_ACCESS", "PURCHASE_COMPLETE"],
    "card-dispute-then-refund.yaml": ["PURCHASE_APPROVED", "PURCHASE_PROTEST", "PURCHASE_REFUNDED"],
    "pix-abandoned-and-expired.yaml": ["PURCHASE_OUT_OF_SHOPPING_CART", "PURCHASE_BILLET_PRINTED", "PURCHASE_EXPIRED"],
    "subscription-lifecycle.yaml": [
        "PURCHASE_APPROVED",
        "CLUB_FIRST_ACCESS",
        "CLUB_MODULE_COMPLETED",
        "PURCHASE_APPROVED",
        "PURCHASE_DELAYED",
        "PURCHASE_APPROVED",
        "SWITCH_PLAN",
        "UPDATE_SUBSCRIPTION_CHARGE_DATE",
        "SUBSCRIPTION_CANCELLATION",
    ],
}


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())
    return get_user_model().objects.get(username="demo")


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_every_example_is_covered():
    assert sorted(p.name for p in EXAMPLES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_each_shipped_example_replays_its_story(demo, path):
    started = timezone.now()

    steps = json.loads(run("scenario", str(path), "--json", "--no-sleep"))

    events = list(Event.objects.filter(owner=demo).order_by("occurred_at", "id"))
    assert [e.event_type for e in events] == EXPECTED[path.name]
    recorded = [event["type"] for step in steps for event in step.get("events", [])]
    assert recorded == EXPECTED[path.name]
    # the story is back-dated: its last step happens now, and its waits separate the events
    assert started - timedelta(seconds=5) <= events[-1].occurred_at <= timezone.now()
    assert all(a.occurred_at <= b.occurred_at for a, b in zip(events, events[1:], strict=False))
    demo_inbox = Configuration.objects.get(owner=demo, name="Demo inbox")
    assert Notification.objects.filter(configuration=demo_inbox).count() == len(events)


def test_the_affiliate_example_sends_the_affiliate_the_billet(demo):
    run("scenario", str(ROOT / "scenarios" / "affiliate-billet.yaml"), "--no-sleep")

    affiliate = get_user_model().objects.get(username="afiliada_demo")
    assert Inbox.objects.filter(owner=affiliate).exists()
    [printed, approved] = Notification.objects.filter(owner=affiliate).order_by("id")
    data = json.loads(printed.payload)["data"]
    purchase = Purchase.objects.get()
    assert data["purchase"]["payment"]["billet_url"] == purchase.billet["url"]
    assert data["buyer"]["email"] == "gabi@example.com"
    assert data["affiliates"][0]["affiliate_code"] == affiliate.webhook_account.affiliate_code
    assert json.loads(approved.payload)["data"]["purchase"]["status"] == "APPROVED"
    # running it again reuses the affiliate, its inbox and configuration
    run("scenario", str(ROOT / "scenarios" / "affiliate-billet.yaml"), "--no-sleep")
    assert Inbox.objects.filter(owner=affiliate).count() == 1
    assert Configuration.objects.filter(owner=affiliate).count() == 1


def test_a_scenario_that_fails_records_nothing_and_names_the_step(demo):
    scenario = scenario_parse(
        """
        owner: demo
        steps:
          - buy: {payment: pix}
          - approve
          - wait: 1d
          - chargeback            # a PIX cannot be charged back
        """
    )

    with pytest.raises(ScenarioError) as caught:
        scenario_run(scenario=scenario, owner=demo, sleep=None)

    message = str(caught.value)
    assert message.startswith("step 4 (chargeback): to: Transaction HP")
    assert "cannot become CHARGEBACK" in message and "(nothing was recorded)" in message
    assert not Event.objects.exists() and not Purchase.objects.exists()


def test_moves_that_wait_for_a_moment_need_the_story_to_wait(demo):
    too_soon = scenario_parse("owner: demo\nsteps: [buy, {wait: 2d}, complete]")
    with pytest.raises(ScenarioError, match=r"step 3 \(complete\): at: PURCHASE_COMPLETE happens once the warranty"):
        scenario_run(scenario=too_soon, owner=demo, sleep=None)
    run_ok = scenario_parse("owner: demo\nsteps: [buy, {wait: 8d}, complete]")
    results = scenario_run(scenario=run_ok, owner=demo, sleep=None)
    assert results[-1].outcome.purchase.status == "COMPLETED"


def test_an_explicit_start_dates_the_story(demo):
    scenario = scenario_parse("start: 2026-01-01T10:00:00Z\nsteps: [buy, {wait: 3h}, refund]")

    results = scenario_run(scenario=scenario, owner=demo, sleep=None)

    assert results[0].at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert results[2].outcome.event.occurred_at == datetime(2026, 1, 1, 13, tzinfo=UTC)


def test_sleep_steps_really_pause_unless_skipped(demo):
    scenario = scenario_parse("steps: [buy, {sleep: 1.5}, refund]")
    slept = []

    scenario_run(scenario=scenario, owner=demo, sleep=slept.append)

    assert slept == [1.5], "once: the dry run does not sleep"
    assert Purchase.objects.get().status == "REFUNDED"


def test_aliases_name_transactions_and_subscriptions(demo):
    scenario = scenario_parse(
        """
        product: 4001002
        steps:
          - buy: {as: first}
          - buy: {as: second, plan: yearly}
          - refund: first
          - cancel_subscription: second
        """
    )
    scenario_run(scenario=scenario, owner=demo, sleep=None)
    first, second = Purchase.objects.order_by("id")
    assert first.status == "REFUNDED" and second.status == "APPROVED"
    assert Subscription.objects.get(pk=second.subscription_id).status == "CANCELLED_BY_CUSTOMER"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps: []", "`steps` must be a non-empty list"),
        ("steps: [fly]", "step 1: unknown action 'fly'"),
        ("steps: [{buy: {colour: red}}]", "step 1 (buy): unknown option 'colour'"),
        ("steps: [{wait: soon}]", "step 1 (wait): 'soon' is not a duration"),
        ("steps: [{sleep: 3600}]", "step 1 (sleep): a number of seconds from 0 to 60"),
        ("steps: [{buy: pix}]", "step 1 (buy): give its options as a mapping"),
        ("steps: [{buy: {}, refund: x}]", "step 1: write one action per step"),
        ("steps: [switch_plan]", "step 1 (switch_plan): it needs `plan`"),
        ("start: yesterday\nsteps: [buy]", "`start` is a date-time with its zone"),
        ("colour: red\nsteps: [buy]", "unknown key 'colour'"),
        ("steps: [buy\n  - x: [", "line"),
        ("steps: [{wait: .inf}]", "step 1 (wait): inf is not a duration"),
        ("steps: [{wait: .nan}]", "step 1 (wait): nan is not a duration"),
        ("steps: [{wait: 1.0e+300}]", "step 1 (wait): 1e+300 is not a duration"),
        ("steps: [{wait: 99999999999w}]", "step 1 (wait): '99999999999w' is not a duration"),
        ("steps: [{wait: 3000d}, {wait: 3000d}]", "step 2 (wait): the waits add up to more than 10 years"),
        ("steps: [{sleep: .nan}]", "step 1 (sleep): a number of seconds from 0 to 60"),
        ("start: 9999-12-31T23:00:00Z\nsteps: [buy, {wait: 2d}]", "`start` is a date-time from 1970 to 2100"),
        ("steps: " + "[" * 50 + "]" * 50, "nested deeper than 10 levels"),
        ("steps: " + "[" * 5000 + "]" * 5000, "nested too deeply"),
    ],
)
def test_bad_files_get_one_clear_message(text, message):
    with pytest.raises(ScenarioError) as caught:
        scenario_parse(text, source="story.yaml")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(90, 90), ("30s", 30), ("15m", 900), ("2h", 7200), ("8d", 691200), ("1w", 604800), ("1d12h", 129600)],
)
def test_durations(value, seconds):
    assert duration_parse(value) == timedelta(seconds=seconds)


def test_the_check_option_records_nothing(demo):
    out = run("scenario", str(ROOT / "scenarios" / "billet-paid-late.yaml"), "--check")
    assert "every step can run" in out
    assert not Event.objects.exists()


def test_runtime_errors_of_the_command_exit_2(demo, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("owner: demo\nsteps: [{buy: {payment: cheque}}]")
    with pytest.raises(CommandError) as caught:
        run("scenario", str(bad))
    assert caught.value.returncode == 2
    assert "step 1 (buy): payment_type: Unknown payment type 'cheque'" in str(caught.value)
    with pytest.raises(CommandError) as caught:
        run("scenario", str(tmp_path / "missing.yaml"))
    assert "No such file" in str(caught.value)


@pytest.mark.django_db(transaction=True)
def test_the_command_line_exits_2_with_one_line(tmp_path):
    call_command("seed_demo", stdout=StringIO())
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - buy\n  - wait: 1d\n  - expire\n")

    result = manage("scenario", str(bad), "--owner", "demo")

    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "step 3 (expire)" in lines[0] and "cannot become EXPIRED" in lines[0]


def test_a_billion_laughs_is_refused_before_anything_walks_it():
    lines = ["x0: &x0 [" + ", ".join(["lol"] * 30) + "]"]
    lines += [f"x{n}: &x{n} [" + ", ".join([f"*x{n - 1}"] * 30) + "]" for n in range(1, 6)]
    with pytest.raises(ScenarioError, match="more than 20000 values"):
        scenario_parse("\n".join(lines) + "\nsteps: [{buy: {coupon: *x5}}]", source="laughs.yaml")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "larger than 1024 KiB"),  # /dev/zero: it never ends
        ('{"owner": "demo", "steps": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
        ("owner: demo\nsteps: [buy]\n" + "#" * (1024 * 1024), "larger than 1024 KiB"),
        (b"owner: demo\nsteps: [{buy: {coupon: \xff}}]\n", "not UTF-8 text"),
    ],
    ids=["dev-zero", "deeply-nested-json", "over-a-mebibyte", "not-utf-8"],
)
def test_a_hostile_file_gets_one_line_and_exit_2_from_the_real_command_line(tmp_path, content, message):
    if content is None:
        path = "/dev/zero"
    else:
        path = tmp_path / "story.json"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())

    result = manage("scenario", str(path), "--owner", "demo")

    assert result.returncode == 2, result.stderr[-500:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr[-500:]


@pytest.mark.django_db(transaction=True)
def test_a_file_name_of_any_bytes_is_read(tmp_path):
    call_command("seed_demo", stdout=StringIO())
    path = tmp_path.joinpath(os.fsdecode(b"hist\xf3ria.yaml"))
    path.write_text("owner: demo\nsteps: [buy]\n")
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "PYTHONIOENCODING": "utf-8:strict"}  # a UTF-8 terminal
    result = subprocess.run(
        [sys.executable, "manage.py", "scenario", os.fsencode(path), "--check"],
        cwd=ROOT, env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "hist\ufffdria.yaml: every step can run." in result.stdout.decode()
