"""Every built payload has the structure of the real Hotmart sample of its event: same keys in the same
order, same nesting, same value types; values come from the simulated sale, not from the samples. And every
payload (2.0.0 JSON and 1.0 form, for the producer and for affiliates) is what the documentation rows say."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest

from catalogue import (
    CATALOGUE,
    FORM,
    JSON,
    PRODUCER,
    PURCHASE_STATUS,
    TEST_BUTTON,
    Audience,
    PayloadContext,
    payload_build,
    payload_encode,
    payload_form,
    payload_serialize,
)
from catalogue.events import PURCHASE_EVENTS, EventType
from catalogue.facts import epoch_ms, sale_facts
from catalogue.schema import Format
from configurations.services import account_get_or_create
from core.secrets import mask_body, mask_secret
from tests.factories import ProductFactory
from tests.payload_checks import (
    SAMPLE_FILES,
    assert_documented,
    assert_form_documented,
    assert_matches_sample,
    leaf_paths,
)

AFFILIATE_WITH_BUYER = Audience(affiliate=True, buyer_data=True)
AFFILIATE_WITHOUT_BUYER = Audience(affiliate=True, buyer_data=False)


@pytest.fixture
def subscription_product(db):
    return ProductFactory(name="Clube Çá de Teste", is_subscription=True, price="64.90")


def build(
    event_type: str,
    product,
    *,
    affiliate: bool = True,
    buyer_email: str = "comprador@example.com",
    audience: Audience = PRODUCER,
):
    account, _ = account_get_or_create(user=product.owner)
    occurred = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    facts = sale_facts(
        event_type=event_type, product=product, producer=account, occurred_at=occurred, buyer_email=buyer_email
    )
    if affiliate:
        facts["affiliates"] = [{"code": "Q58388177J", "name": "Afiliado Teste"}]
    ctx = PayloadContext(str(uuid.uuid4()), event_type, epoch_ms(occurred), facts, account.hottok, audience)
    return payload_build(ctx), ctx


def test_there_is_a_sample_for_each_of_the_15_event_types():
    events = {json.loads(path.read_text())["event"] for path in SAMPLE_FILES}
    assert events == set(EventType.values)
    assert set(CATALOGUE) == set(EventType.values)


@pytest.mark.parametrize("sample_path", SAMPLE_FILES, ids=lambda p: p.stem)
def test_payload_has_the_structure_of_the_hotmart_sample(sample_path, subscription_product):
    sample = json.loads(sample_path.read_text())
    payload, ctx = build(sample["event"], subscription_product)
    assert_matches_sample(payload, sample["event"])
    if sample["event"] in PURCHASE_EVENTS:
        # every key the sample has is ours too, apart from what production leaves out in this status
        ours = set(leaf_paths(payload))
        optional = {row.name for row in CATALOGUE[sample["event"]].rows() if row.conditional}
        assert {p for p in leaf_paths(sample) if "[]" not in p} - optional <= ours
    # and it survives the exact serialisation that is sent
    assert json.loads(payload_serialize(payload)) == payload


@pytest.mark.parametrize("sample_path", SAMPLE_FILES, ids=lambda p: p.stem)
def test_values_come_from_the_simulated_sale(sample_path, subscription_product):
    event_type = json.loads(sample_path.read_text())["event"]
    payload, ctx = build(event_type, subscription_product)
    assert payload["id"] == ctx.event_id
    assert uuid.UUID(payload["id"])
    assert payload["event"] == event_type
    assert payload["version"] == "2.0.0"
    created = payload.get("creation_date", payload.get("creationDate"))
    assert created == ctx.created_ms
    text = payload_serialize(payload)
    assert str(subscription_product.hotmart_id) in text
    assert "Clube Çá de Teste" in text  # UTF-8 as is, not \u-escaped
    assert "Produto test postback2" not in text


@pytest.mark.parametrize(("event_type", "status"), list(PURCHASE_STATUS.items()))
def test_purchase_status_follows_the_event(event_type, status, subscription_product):
    payload, _ = build(event_type, subscription_product)
    assert payload["data"]["purchase"]["status"] == status


def test_the_real_quirks_are_reproduced(subscription_product):
    charge, ctx = build(EventType.UPDATE_SUBSCRIPTION_CHARGE_DATE, subscription_product)
    assert "creation_date" in charge and "creationDate" not in charge, "production's spelling"
    as_test_button = payload_build(replace(ctx, facts={**ctx.facts, "variant": TEST_BUTTON}))
    assert "creationDate" in as_test_button and "creation_date" not in as_test_button, "the test button's"
    assert as_test_button["creationDate"] == charge["creation_date"]
    assert charge["hottok"] == ctx.hottok
    assert set(charge["data"]["subscription"]) >= {"dateNextCharge", "newChargeDay", "oldChargeDay"}
    assert charge["data"]["subscription"]["newChargeDay"] != charge["data"]["subscription"]["oldChargeDay"]
    first_access, _ = build(EventType.CLUB_FIRST_ACCESS, subscription_product)
    assert "creationDate" in first_access
    module, _ = build(EventType.CLUB_MODULE_COMPLETED, subscription_product)
    assert module["data"]["product"]["id"] == str(subscription_product.hotmart_id)
    protest, _ = build(EventType.PURCHASE_PROTEST, subscription_product)
    assert protest["data"]["purchase"]["status"] == "DISPUTE"


def test_commissions_add_up_to_the_price(subscription_product):
    payload, _ = build(EventType.PURCHASE_APPROVED, subscription_product)
    shares = {c["source"]: c["value"] for c in payload["data"]["commissions"]}
    assert shares["MARKETPLACE"] == pytest.approx(64.90 * 0.099 + 1, abs=0.01)
    assert shares["MARKETPLACE"] + shares["PRODUCER"] == pytest.approx(64.90)
    assert payload["data"]["purchase"]["price"] == {"value": 64.9, "currency_value": "BRL"}


def test_single_purchase_product_has_no_subscription_block(db):
    product = ProductFactory(is_subscription=False)
    payload, _ = build(EventType.PURCHASE_APPROVED, product)
    assert "subscription" not in payload["data"]
    assert payload["data"]["purchase"]["status"] == "APPROVED"


def test_subscription_events_need_a_subscription_product(db):
    product = ProductFactory(is_subscription=False)
    with pytest.raises(ValueError, match="subscription product"):
        build(EventType.SWITCH_PLAN, product)


def test_sale_without_affiliate_has_an_empty_affiliates_list(subscription_product):
    payload, _ = build(EventType.PURCHASE_APPROVED, subscription_product, affiliate=False)
    assert payload["data"]["affiliates"] == []
    cart, _ = build(EventType.PURCHASE_OUT_OF_SHOPPING_CART, subscription_product, affiliate=False)
    assert cart["data"]["affiliate"] is False


@pytest.mark.parametrize("sample_path", SAMPLE_FILES, ids=lambda p: p.stem)
def test_documentation_rows_cover_every_field_of_the_sample(sample_path):
    sample = json.loads(sample_path.read_text())
    for version in CATALOGUE[sample["event"]].versions:
        rows = CATALOGUE[sample["event"]].rows(version)
        assert rows
        for row in rows:
            assert row.description and row.format
            assert row.affiliates in {"yes", "no", "if the producer shares buyer data"}
            if row.format in (Format.STRING, Format.UUID):
                assert row.size, f"{row.name} has no size"
    documented = {row.name for row in CATALOGUE[sample["event"]].rows()}
    assert set(leaf_paths(sample)) <= documented


# --- Against the documentation, for every audience and version ------------------------------------------

AUDIENCES = [PRODUCER, AFFILIATE_WITH_BUYER, AFFILIATE_WITHOUT_BUYER]


@pytest.mark.parametrize("audience", AUDIENCES, ids=["producer", "affiliate+buyer", "affiliate-buyer"])
@pytest.mark.parametrize("event_type", EventType.values)
def test_every_payload_is_what_its_documentation_rows_say(event_type, audience, subscription_product):
    payload, ctx = build(event_type, subscription_product, audience=audience)
    assert_documented(payload, event_type, audience)
    if event_type in PURCHASE_EVENTS:
        assert_form_documented(payload_form(ctx), event_type, audience)


def test_an_affiliate_without_buyer_permission_gets_no_buyer_producer_or_commission_data(subscription_product):
    full, full_ctx = build(EventType.PURCHASE_BILLET_PRINTED, subscription_product)
    ctx = replace(full_ctx, audience=AFFILIATE_WITHOUT_BUYER)
    filtered = payload_build(ctx)
    assert "buyer" in full["data"] and "buyer" not in filtered["data"]
    assert "commissions" not in filtered["data"]
    assert filtered["data"]["producer"] == {"name": full["data"]["producer"]["name"]}
    assert "billet_url" in full["data"]["purchase"]["payment"]
    assert set(filtered["data"]["purchase"]["payment"]) == {"installments_number", "type"}
    assert filtered["data"]["affiliates"] == full["data"]["affiliates"]
    assert filtered["data"]["purchase"]["transaction"] == full["data"]["purchase"]["transaction"]
    form = dict(payload_form(ctx))
    assert "email" not in form and "doc" not in form and "billet_url" not in form and "cms_vendor" not in form
    assert form["transaction"] == full["data"]["purchase"]["transaction"] and form["aff"] == "Q58388177J"


def test_an_affiliate_with_buyer_permission_also_gets_the_buyer_and_the_billet(subscription_product):
    filtered, ctx = build(EventType.PURCHASE_BILLET_PRINTED, subscription_product, audience=AFFILIATE_WITH_BUYER)
    assert filtered["data"]["buyer"]["email"] == "comprador@example.com"
    assert filtered["data"]["purchase"]["payment"]["billet_url"].startswith("https://")
    assert len(filtered["data"]["purchase"]["payment"]["billet_barcode"].replace(" ", "").replace(".", "")) == 47
    assert "commissions" not in filtered["data"] and "document" not in filtered["data"]["producer"]
    form = dict(payload_form(ctx))
    assert form["email"] == "comprador@example.com" and form["billet_url"] and form["billet_barcode"]
    assert "cms_vendor" not in form and "producer_document" not in form


# --- The legacy 1.0 postback ------------------------------------------------------------------------------

ISSUE_V1_FIELDS = (
    "hottok prod prod_name off price aff email name first_name last_name doc transaction xcod src sck status "
    "payment_type billet_url billet_barcode subscriber_code purchase_date confirmation_purchase_date "
    "warranty_date full_price currency"
).split()


@pytest.mark.parametrize("event_type", sorted(PURCHASE_EVENTS))
def test_the_1_0_postback_has_the_historical_fields_and_lower_case_status(event_type, subscription_product):
    _, ctx = build(event_type, subscription_product)
    body = payload_encode(ctx, "1.0")
    assert body.content_type == FORM
    fields = dict(parse_qsl(body.text, keep_blank_values=True))
    assert set(ISSUE_V1_FIELDS) <= set(fields)
    assert fields["status"] == PURCHASE_STATUS[event_type].lower()
    assert fields["hottok"] == ctx.hottok
    assert fields["prod"] == str(subscription_product.hotmart_id)
    assert fields["prod_name"] == "Clube Çá de Teste"  # UTF-8, percent-encoded on the wire
    assert "Clube+%C3%87%C3%A1+de+Teste" in body.text
    assert fields["email"] == "comprador@example.com"
    assert fields["transaction"] == ctx.facts["purchase"]["transaction"]
    assert fields["price"] == "64.90" and fields["currency"] == "BRL"
    assert fields["aff"] == "Q58388177J" and fields["aff_name"] == "Afiliado Teste"
    assert fields["subscriber_code"] == ctx.facts["subscription"]["subscriber_code"]
    assert fields["payment_type"] in {"credit_card", "billet"}
    assert fields["purchase_date"].endswith("Z")
    if PURCHASE_STATUS[event_type] in ("BILLET_PRINTED", "CANCELED", "DELAYED"):
        assert fields["warranty_date"] == "", "no warranty while unpaid or refused, empty as every 1.0 field"
    else:
        assert fields["warranty_date"].endswith("Z")


def test_the_1_0_postback_exists_for_purchase_events_only(subscription_product):
    for event_type in EventType.values:
        versions = CATALOGUE[event_type].versions
        assert ("1.0" in versions) == (event_type in PURCHASE_EVENTS)
        if event_type not in PURCHASE_EVENTS:
            assert CATALOGUE[event_type].rows("1.0") == []
            _, ctx = build(event_type, subscription_product)
            with pytest.raises(ValueError, match="only purchase events"):
                payload_form(ctx)


def test_the_1_0_documentation_names_each_field_once_with_its_2_0_0_counterpart():
    rows = CATALOGUE[EventType.PURCHASE_APPROVED].rows("1.0")
    names = [row.name for row in rows]
    assert len(names) == len(set(names))
    assert set(ISSUE_V1_FIELDS) <= set(names)
    v2 = {row.v1_name: row.name for row in CATALOGUE[EventType.PURCHASE_APPROVED].rows() if row.v1_name}
    assert v2["prod"] == "data.product.id"
    assert v2["status"] == "data.purchase.status"
    assert v2["off"] == "data.purchase.offer.code"
    assert v2["confirmation_purchase_date"] == "data.purchase.approved_date"
    assert "aff" not in v2 and "aff" in names, "1.0-only fields are documented in the 1.0 table only"


def test_json_and_form_bodies_mask_their_hottok_for_display(subscription_product):
    _, ctx = build(EventType.PURCHASE_APPROVED, subscription_product)
    form = payload_encode(ctx, "1.0")
    masked = dict(parse_qsl(mask_body(form.text)))
    assert masked["hottok"] != ctx.hottok and masked["hottok"].startswith(ctx.hottok[:4])
    assert masked["prod"] == str(subscription_product.hotmart_id)
    charge, charge_ctx = build(EventType.UPDATE_SUBSCRIPTION_CHARGE_DATE, subscription_product)
    body = payload_encode(charge_ctx)
    assert body.content_type == JSON
    assert json.loads(mask_body(body.text))["hottok"] != charge_ctx.hottok
    assert mask_body(body.text) == body.text.replace(charge_ctx.hottok, mask_secret(charge_ctx.hottok))


def test_the_documented_1_0_field_list_is_the_catalogues():
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "payloads.md").read_text()
    listed = text.split("The 1.0 form has, in this order:", 1)[1].split("\n\n", 1)[0]
    names = [part.strip(" `.\n") for part in listed.replace("\n", " ").split(",")]
    assert names == [row.name for row in CATALOGUE[EventType.PURCHASE_APPROVED].rows("1.0")]
