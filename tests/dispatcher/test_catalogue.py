"""Every built payload has the structure of the real Hotmart sample of its event: same keys in the same
order, same nesting, same value types; values come from the simulated sale, not from the samples."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from configurations.events import EventType
from configurations.services import account_get_or_create
from dispatcher.catalogue import CATALOGUE, PURCHASE_STATUS, PayloadContext, payload_build, payload_serialize
from dispatcher.catalogue.schema import Format
from dispatcher.facts import epoch_ms, sale_facts
from tests.factories import ProductFactory

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "hotmart-samples"
SAMPLE_FILES = sorted(SAMPLES.glob("*.json"))


def shape(value):
    """The structure of a JSON value: object keys in order, list element shapes, scalar JSON types."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        shapes = []
        for element in value:
            if shape(element) not in shapes:
                shapes.append(shape(element))
        return ["list", shapes]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def leaf_paths(value, prefix=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, f"{prefix}{key}" if not prefix else f"{prefix}.{key}")
    elif isinstance(value, list):
        for element in value:
            yield from leaf_paths(element, f"{prefix}[]")
    else:
        yield prefix


@pytest.fixture
def subscription_product(db):
    return ProductFactory(name="Clube Çá de Teste", is_subscription=True, price="64.90")


def build(event_type: str, product, *, affiliate: bool = True, buyer_email: str = "comprador@example.com"):
    account, _ = account_get_or_create(user=product.owner)
    occurred = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    facts = sale_facts(
        event_type=event_type, product=product, producer=account, occurred_at=occurred, buyer_email=buyer_email
    )
    if affiliate:
        facts["affiliates"] = [{"code": "Q58388177J", "name": "Afiliado Teste"}]
    ctx = PayloadContext(str(uuid.uuid4()), event_type, epoch_ms(occurred), facts, account.hottok)
    return payload_build(ctx), ctx


def test_there_is_a_sample_for_each_of_the_15_event_types():
    events = {json.loads(path.read_text())["event"] for path in SAMPLE_FILES}
    assert events == set(EventType.values)
    assert set(CATALOGUE) == set(EventType.values)


@pytest.mark.parametrize("sample_path", SAMPLE_FILES, ids=lambda p: p.stem)
def test_payload_has_the_structure_of_the_hotmart_sample(sample_path, subscription_product):
    sample = json.loads(sample_path.read_text())
    payload, ctx = build(sample["event"], subscription_product)
    assert shape(payload) == shape(sample)
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
    assert "creationDate" in charge and "creation_date" not in charge
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
    rows = CATALOGUE[sample["event"]].rows()
    documented = {row.name for row in rows}
    assert set(leaf_paths(sample)) <= documented
    for row in rows:
        assert row.description and row.format
        assert row.affiliates in {"yes", "no", "if the producer shares buyer data"}
        if row.format in (Format.STRING, Format.UUID):
            assert row.size, f"{row.name} has no size"
