"""What the check sends: the plan of checks and POSTs for a target, built without sending anything."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest
from django.utils import timezone

from catalogue.events import PURCHASE_EVENTS, EventType, PayloadVersion
from receiver_checks.suite import BUNDLE_SIZE, EXTRA_FIELD, PREREQUISITE, Target, plan_build

pytestmark = pytest.mark.django_db

# The checks after the events, in the report's order, each making POSTs of its own.
CONTRACT = [
    "hottok_wrong",
    "hottok_missing",
    "repeat",
    "unknown_purchase",
    "unknown_field",
    "size",
    "payload_format",
    "hotmart_headers",
]


def target_for(producer, *, version=PayloadVersion.V2, events=tuple(EventType.values)):
    account = producer.webhook_account
    return Target(
        url="http://127.0.0.1:9/hook",
        payload_version=version,
        events=tuple(events),
        hottok=account.hottok,
        owner=producer,
        account=account,
    )


def posts_of(plan, key):
    return next(s for s in plan.sequences if s.key == key).posts


def test_a_bare_url_gets_every_event_then_the_contract_checks(producer):
    plan = plan_build(target_for(producer), now=timezone.now())

    keys = [c.key for c in plan.checks]
    assert keys[0] == "https"
    assert keys[1:16] == [f"event:{e}" for e in EventType.values]
    assert keys[16:] == [*CONTRACT, "redirects", "speed"]
    # Every sequence is at most two POSTs: the check is bounded by two time limits, however many there are.
    assert max(len(s.posts) * max(p.times for p in s.posts) for s in plan.sequences) == 2
    # Every check is graded from POSTs the plan makes (or from all of them, or from the URL alone).
    made = {s.key for s in plan.sequences}
    for spec in plan.checks:
        assert set(spec.needs) <= made, spec.key


def test_an_event_about_an_earlier_purchase_follows_that_purchase(producer):
    plan = plan_build(target_for(producer), now=timezone.now())

    for event_type, before in PREREQUISITE.items():
        first, then = posts_of(plan, f"event:{event_type}")
        assert (first.event_type, then.event_type) == (before, event_type)
        assert first.buyer_email == then.buyer_email
        assert first.occurred_at < then.occurred_at
        if event_type in PURCHASE_EVENTS:
            assert first.transaction == then.transaction
        assert json.loads(first.body)["id"] != json.loads(then.body)["id"]
    # The openers go alone, and every sale (and buyer) is a new one: no check disturbs another.
    assert len(posts_of(plan, "event:PURCHASE_APPROVED")) == 1
    transactions = [p.transaction for s in plan.sequences for p in s.posts[-1:] if p.transaction]
    assert len(transactions) == len(set(transactions))


def test_forged_notifications_carry_a_wrong_hottok_or_none_and_never_the_real_one(producer):
    hottok = producer.webhook_account.hottok
    for version in (PayloadVersion.V2, PayloadVersion.V1):
        plan = plan_build(target_for(producer, version=version), now=timezone.now())
        [wrong] = posts_of(plan, "hottok_wrong")
        [missing] = posts_of(plan, "hottok_missing")
        assert wrong.hottok and wrong.hottok != hottok and wrong.forged
        assert missing.hottok is None and missing.forged
        for post in (wrong, missing):
            assert hottok not in post.body
        if version == PayloadVersion.V1:
            assert dict(parse_qsl(wrong.body))["hottok"] == wrong.hottok
            assert "hottok" not in dict(parse_qsl(missing.body))
        genuine = posts_of(plan, "event:PURCHASE_APPROVED")[0]
        assert genuine.hottok == hottok and not genuine.forged


def test_the_repeat_is_one_notification_sent_twice(producer):
    plan = plan_build(target_for(producer), now=timezone.now())
    [repeat] = posts_of(plan, "repeat")
    assert repeat.times == 2


def test_unknown_fields_appear_where_a_strict_receiver_would_choke(producer):
    plan = plan_build(target_for(producer), now=timezone.now())
    [extra] = posts_of(plan, "unknown_field")
    payload = json.loads(extra.body)
    assert EXTRA_FIELD in payload and EXTRA_FIELD in payload["data"] and EXTRA_FIELD in payload["data"]["purchase"]


def test_the_largest_payload_has_long_names_and_a_big_bundle(producer):
    plan = plan_build(target_for(producer), now=timezone.now())
    [big] = posts_of(plan, "size")
    payload = json.loads(big.body)
    products = payload["data"]["product"]["content"]["products"]
    assert len(products) == BUNDLE_SIZE
    assert all(len(p["name"]) == 255 for p in products)
    assert len(payload["data"]["buyer"]["name"]) == 255
    assert len(big.body.encode()) > 40_000  # larger than small body limits, far below 1 MB
    plain = json.loads(posts_of(plan, "event:PURCHASE_APPROVED")[0].body)
    assert len(json.dumps(plain)) < 4_000


def test_a_configuration_is_checked_with_its_own_events_only(producer):
    plan = plan_build(target_for(producer, events=("PURCHASE_APPROVED", "PURCHASE_REFUNDED")), now=timezone.now())
    assert [c.key for c in plan.checks if c.key.startswith("event:")] == [
        "event:PURCHASE_APPROVED",
        "event:PURCHASE_REFUNDED",
    ]
    sent = {p.event_type for s in plan.sequences for p in s.posts if s.key != "payload_format"}
    assert sent == {"PURCHASE_APPROVED", "PURCHASE_REFUNDED"}
    [stray] = posts_of(plan, "unknown_purchase")
    assert stray.event_type == "PURCHASE_REFUNDED"


def test_what_does_not_apply_is_skipped_with_the_reason(producer):
    plan = plan_build(target_for(producer, events=("CLUB_FIRST_ACCESS",)), now=timezone.now())
    skipped = {c.key: c.skip_reason for c in plan.checks if c.skip_reason}
    assert set(skipped) == {"payload_format"}  # the 1.0 form has no members-area events
    plan = plan_build(target_for(producer, events=("PURCHASE_APPROVED",)), now=timezone.now())
    skipped = {c.key: c.skip_reason for c in plan.checks if c.skip_reason}
    assert set(skipped) == {"unknown_purchase"}
    assert "no event about an earlier purchase" in skipped["unknown_purchase"]


def test_a_legacy_configuration_gets_the_form_and_is_compared_with_json(producer):
    plan = plan_build(
        target_for(producer, version=PayloadVersion.V1, events=sorted(PURCHASE_EVENTS)), now=timezone.now()
    )
    genuine = posts_of(plan, "event:PURCHASE_APPROVED")[0]
    assert genuine.content_type == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(genuine.body))["hottok"] == producer.webhook_account.hottok
    [switched] = posts_of(plan, "payload_format")
    assert switched.content_type == "application/json"
    [bare] = posts_of(plan, "hotmart_headers")
    assert bare.hotmart_only
