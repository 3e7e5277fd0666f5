"""The simulator from the command line: `simulate` starts and moves transactions and subscriptions, `affiliates`
manages affiliates, `configurations add --version 1.0` picks the legacy postback; bad input exits 2."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest
from django.core.management.base import CommandError

from history.models import Event, Notification
from sales.models import Purchase, Subscription
from tests.dispatcher.test_commands import run, run_json
from tests.factories import ConfigurationFactory


def test_simulate_starts_a_card_purchase_and_moves_it(demo):
    hook = ConfigurationFactory(owner=demo, events=["PURCHASE_APPROVED", "PURCHASE_REFUNDED"])

    started = run_json(
        "simulate", "PURCHASE_APPROVED", "--owner", "demo", "--installments", "6", "--buyer-email", "a@example.com"
    )

    code = started["transaction"]["transaction"]
    assert started["event"]["type"] == "PURCHASE_APPROVED" and started["event"]["transaction"] == code
    assert started["transaction"]["status"] == "APPROVED" and started["transaction"]["installments"] == 6
    assert [m["to"] for m in started["transaction"]["next"]] == ["COMPLETED", "REFUNDED", "CHARGEBACK", "DISPUTE"]
    assert started["notifications"] == list(
        Notification.objects.filter(configuration=hook).values_list("id", flat=True)
    )

    moved = run_json("simulate", "--transaction", code, "--to", "refunded")

    assert moved["event"]["type"] == "PURCHASE_REFUNDED" and moved["transaction"]["status"] == "REFUNDED"
    assert moved["transaction"]["next"] == []
    text = run("simulate", "PURCHASE_APPROVED", "--owner", "demo")
    assert "transaction HP" in text and "next: complete (really " in text and "refund" in text


def test_simulate_issues_pix_and_billet_and_takes_an_event_name_as_the_target(demo):
    pix = run_json("simulate", "PURCHASE_BILLET_PRINTED", "--owner", "demo", "--payment", "pix")
    assert pix["transaction"]["pix"]["code"].startswith("000201")
    billet = run_json("simulate", "PURCHASE_BILLET_PRINTED", "--owner", "demo")
    assert billet["transaction"]["payment_type"] == "BILLET" and billet["transaction"]["billet"]["barcode"]

    paid = run_json("simulate", "PURCHASE_APPROVED", "--transaction", pix["transaction"]["transaction"])

    assert paid["transaction"]["status"] == "APPROVED"
    text = run("simulate", "--transaction", billet["transaction"]["transaction"], "--to", "expired")
    assert "PURCHASE_EXPIRED" in text and "EXPIRED is final" in text


def test_simulate_drives_a_subscription(demo):
    started = run_json(
        "simulate", "PURCHASE_APPROVED", "--owner", "demo", "--product", "4001002", "--plan", "quarterly"
    )
    code = started["subscription"]["subscriber_code"]
    assert started["subscription"]["plan"] == "quarterly" and started["subscription"]["actions"]["renew"]

    renewed = run_json("simulate", "--subscription", code, "--renew")
    switched = run_json("simulate", "--subscription", code, "--switch-plan", "yearly")
    moved = run_json("simulate", "--subscription", code, "--charge-day", "15")
    cancelled = run_json("simulate", "--subscription", code, "--cancel", "--by", "seller")

    assert renewed["transaction"]["recurrence_number"] == 2
    assert switched["event"]["type"] == "SWITCH_PLAN"
    assert moved["event"]["type"] == "UPDATE_SUBSCRIPTION_CHARGE_DATE" and moved["subscription"]["charge_day"] == 15
    assert cancelled["subscription"]["status"] == "CANCELLED_BY_SELLER"
    assert Subscription.objects.get().purchases.count() == 2


def test_simulate_records_carts_the_members_area_and_one_off_samples(demo):
    cart = run_json("simulate", "PURCHASE_OUT_OF_SHOPPING_CART", "--owner", "demo", "--buyer-email", "c@example.com")
    assert cart["event"]["buyer_email"] == "c@example.com" and cart["transaction"] is None
    code = run_json("simulate", "PURCHASE_APPROVED", "--owner", "demo")["transaction"]["transaction"]
    run("simulate", "CLUB_FIRST_ACCESS", "--transaction", code)
    module = run_json("simulate", "CLUB_MODULE_COMPLETED", "--transaction", code, "--module", "2")
    assert module["event"]["transaction"] == code
    assert Event.objects.get(pk=module["event"]["pk"]).facts["member"]["module"]["name"].startswith("Módulo 2")

    sample = run_json("simulate", "PURCHASE_CHARGEBACK", "--owner", "demo")

    assert sample["transaction"] is None and "one-off sample" in sample["notes"][0]
    assert not Purchase.objects.filter(transaction=sample["event"]["transaction"]).exists()


def test_an_affiliate_added_from_the_command_line_gets_its_own_notifications(demo):
    added = run_json(
        "affiliates", "add", "--owner", "demo", "--product", "4001001", "--username", "zeca", "--commission", "30"
    )
    assert added["created_user"] and added["commission_percent"] == "30.00"
    run(
        "configurations",
        "add",
        "--owner",
        "zeca",
        "--name",
        "mine",
        "--event",
        "ALL",
        "--product",
        "4001001",
        "--url",
        "http://127.0.0.1:9/z",
    )
    assert "do not see" in run("affiliates", "sharing", "--owner", "demo")
    assert "see buyer data" in run("affiliates", "sharing", "--owner", "demo", "--on")

    sale = run_json("simulate", "PURCHASE_APPROVED", "--owner", "demo", "--affiliate", added["affiliate_code"])

    mine = Notification.objects.get(owner__username="zeca")
    assert mine.pk in sale["notifications"]
    assert json.loads(mine.payload)["data"]["buyer"]["email"]
    assert [row["affiliate"] for row in run_json("affiliates", "list", "--owner", "demo")] == ["zeca"]
    assert run_json("affiliates", "list", "--affiliate", "zeca")[0]["product"] == 4001001


def test_a_legacy_configuration_from_the_command_line(demo):
    added = run_json(
        "configurations",
        "add",
        "--owner",
        "demo",
        "--name",
        "old",
        "--event",
        "PURCHASE_APPROVED",
        "--url",
        "http://127.0.0.1:9/v1",
        "--version",
        "1.0",
    )
    assert added["payload_version"] == "1.0"

    sale = run_json("simulate", "PURCHASE_APPROVED", "--owner", "demo")

    [notification] = Notification.objects.filter(pk__in=sale["notifications"])
    assert notification.content_type == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(notification.payload))["status"] == "approved"
    shown = run_json("notifications", "show", str(notification.pk))
    assert shown["format"] == "application/x-www-form-urlencoded"
    assert shown["payload"]["status"] == "approved"
    hottok = demo.webhook_account.hottok
    assert shown["payload"]["hottok"] != hottok, "masked"
    assert (
        json.loads(run("notifications", "show", str(notification.pk), "--json", "--reveal"))["payload"]["hottok"]
        == hottok
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "--transaction", "HP00000000000000", "--to", "refunded"], "No transaction HP00000000000000"),
        (["simulate", "PURCHASE_APPROVED", "--owner", "demo", "--payment", "pix"], "starts at PURCHASE_BILLET_PRINTED"),
        (
            ["simulate", "PURCHASE_BILLET_PRINTED", "--owner", "demo", "--payment", "card"],
            "use --payment billet or pix",
        ),
        (["simulate", "PURCHASE_APPROVED", "--owner", "demo", "--payment", "cheque"], "Unknown --payment 'cheque'"),
        (
            ["simulate", "PURCHASE_APPROVED", "--owner", "demo", "--installments", "24"],
            "installments: Installments go from 1 to 12",
        ),
        (
            ["simulate", "PURCHASE_APPROVED", "--owner", "demo", "--affiliate", "X1"],
            "affiliate_code: No affiliate 'X1'",
        ),
        (["simulate", "SWITCH_PLAN", "--owner", "demo", "--payment", "pix"], "--payment applies to a new purchase"),
        (
            ["simulate", "PURCHASE_APPROVED", "--owner", "demo", "--at", "tomorrow"],
            "--at 'tomorrow' is not an ISO date-time",
        ),
        (["simulate", "--subscription", "NOPE0000", "--renew"], "No subscription NOPE0000"),
        (
            [
                "configurations",
                "add",
                "--owner",
                "demo",
                "--name",
                "v",
                "--event",
                "SWITCH_PLAN",
                "--url",
                "http://a.example/",
                "--version",
                "1.0",
            ],
            "purchase events only",
        ),
        (
            [
                "configurations",
                "add",
                "--owner",
                "demo",
                "--name",
                "v",
                "--event",
                "ALL",
                "--url",
                "http://a.example/",
                "--version",
                "3",
            ],
            "Unknown payload version '3'",
        ),
        (
            ["affiliates", "add", "--owner", "demo", "--product", "4001001", "--username", "demo"],
            "cannot be an affiliate of its own product",
        ),
        (["affiliates", "add", "--owner", "demo", "--product", "1", "--username", "x"], "Unknown product 1"),
    ],
)
def test_bad_input_exits_2_with_a_message(demo, args, message):
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == 2
    assert message in str(caught.value)


def test_simulate_states_the_time_rule_and_schedules_a_move_at_its_real_moment(demo, capsys):
    with pytest.raises(SystemExit):
        run("simulate", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "never dated later than it is sent" in text and "--schedule" in text and "Pending post" in text
    code = run_json("simulate", "PURCHASE_APPROVED", "--owner", "demo")["transaction"]["transaction"]
    warranty = Purchase.objects.get(transaction=code).warranty_until

    scheduled = run_json("simulate", "--transaction", code, "--to", "completed", "--schedule")

    assert scheduled["event"]["occurred_at"] == warranty.isoformat()
    assert any("is scheduled" in note for note in scheduled["notes"])
    assert Notification.objects.filter(pk__in=scheduled["notifications"], next_attempt_at=warranty).count() == len(
        scheduled["notifications"]
    )
    other = run_json("simulate", "PURCHASE_APPROVED", "--owner", "demo")["transaction"]["transaction"]
    text = run("simulate", "--transaction", other, "--to", "completed")
    assert "before its real moment" in text and "is scheduled" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "completed", "--schedule", "--at", "2026-01-01T00:00:00Z"], "not both"),
        (["CLUB_FIRST_ACCESS", "--schedule"], "--schedule applies to"),
    ],
)
def test_schedule_is_refused_where_it_means_nothing(demo, args, message):
    code = run_json("simulate", "PURCHASE_APPROVED", "--owner", "demo")["transaction"]["transaction"]
    with pytest.raises(CommandError) as caught:
        run("simulate", "--transaction", code, *args)
    assert caught.value.returncode == 2 and message in str(caught.value)
    with pytest.raises(CommandError) as caught:
        run("simulate", "PURCHASE_APPROVED", "--owner", "demo", "--schedule")
    assert caught.value.returncode == 2 and "--schedule applies to" in str(caught.value)


def test_moving_a_transaction_the_wrong_way_names_the_allowed_moves(demo):
    code = run_json("simulate", "PURCHASE_APPROVED", "--owner", "demo")["transaction"]["transaction"]
    with pytest.raises(CommandError) as caught:
        run("simulate", "--transaction", code, "--to", "expired")
    assert caught.value.returncode == 2
    assert "cannot become EXPIRED. Allowed: COMPLETED (really at" in str(caught.value)
    with pytest.raises(CommandError) as caught:
        run("simulate", "--transaction", code, "--to", "refunded", "--owner", "nobody")
    assert "Unknown owner" in str(caught.value)
    with pytest.raises(CommandError) as caught:
        run("simulate", "--transaction", code)
    assert "--to STATUS" in str(caught.value)
