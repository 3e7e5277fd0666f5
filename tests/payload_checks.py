"""Checks a payload against the real Hotmart sample of its event and against the catalogue's documentation rows.

Shared by the catalogue's tests (one-off sample facts) and the simulator's tests (payloads of tracked sales,
for every payment type, subscriptions, affiliates and the legacy 1.0 form).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from catalogue import CATALOGUE, PRODUCER, Audience
from catalogue.schema import Affiliates, Format

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "hotmart-samples"
SAMPLE_FILES = sorted(SAMPLES.glob("*.json"))


def sample_for(event_type: str) -> dict:
    for path in SAMPLE_FILES:
        sample = json.loads(path.read_text())
        if sample["event"] == event_type:
            return sample
    raise LookupError(event_type)


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


def paths(value, prefix: str = ""):
    """Every key path of a JSON value, objects included: data, data.buyer, data.affiliates[].name, ..."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path
            yield from paths(item, path)
    elif isinstance(value, list):
        for element in value:
            yield from paths(element, f"{prefix}[]")


def leaf_paths(value, prefix: str = ""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for element in value:
            yield from leaf_paths(element, f"{prefix}[]")
    else:
        yield prefix


def without(value, drop: set[str], prefix: str = ""):
    """The value with the keys at the paths in ``drop`` removed."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            if path not in drop:
                out[key] = without(item, drop, path)
        return out
    if isinstance(value, list):
        return [without(element, drop, f"{prefix}[]") for element in value]
    return value


# Fields Hotmart's production webhooks of 2025 carry that its test-button samples lack (docs/payloads.md).
PRODUCTION_ONLY = frozenset({"data.purchase.invoice_by", "data.purchase.subscription_anticipation_purchase"})


def assert_matches_sample(payload: dict, event_type: str) -> None:
    """Same keys in the same order, same nesting and value types as Hotmart's sample; a field the catalogue
    documents as conditional (billet codes, the subscription block, ...) may be present on one side only, and
    so may the fields production sends beyond the sample (``PRODUCTION_ONLY``)."""
    sample = sample_for(event_type)
    conditional = {row.name for row in CATALOGUE[event_type].rows() if row.conditional} | PRODUCTION_ONLY
    ours, theirs = set(paths(payload)), set(paths(sample))
    assert_same_shape(without(payload, conditional - theirs), without(sample, conditional - ours))


def assert_same_shape(ours, theirs, path: str = "") -> None:
    """Same keys in the same order, same JSON types; an empty list (no affiliates) matches any list."""
    where = path or "the payload"
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{where}: an object is expected"
        assert list(ours) == list(theirs), f"{where}: keys {list(ours)} instead of {list(theirs)}"
        for key in theirs:
            assert_same_shape(ours[key], theirs[key], f"{path}.{key}" if path else key)
    elif isinstance(theirs, list):
        assert isinstance(ours, list), f"{where}: a list is expected"
        for mine in ours:
            for sample in theirs:
                assert_same_shape(mine, sample, f"{path}[]")
    else:
        assert shape(ours) == shape(theirs), f"{where}: {shape(ours)} instead of {shape(theirs)}"


_JSON_TYPES = {
    Format.STRING: str,
    Format.UUID: str,
    Format.DATETIME: str,
    Format.INTEGER: int,
    Format.TIMESTAMP: int,
    Format.DECIMAL: (int, float),
    Format.BOOLEAN: bool,
    Format.OBJECT: dict,
    Format.LIST: list,
}


def receives(audience: Audience, marking: str) -> bool:
    return audience.receives(marking)


def assert_documented(payload: dict, event_type: str, audience: Audience = PRODUCER) -> None:
    """Every field of the payload is a documentation row of its event, of the row's format and within its
    size, and one the audience receives; every unconditional row the audience receives is in the payload."""
    rows = {row.name: row for row in CATALOGUE[event_type].rows()}
    flat = dict(_values(payload))
    for path, value in flat.items():
        assert path in rows, f"{event_type}: {path} is sent but not documented"
        row = rows[path]
        kind = _JSON_TYPES[row.format]
        assert isinstance(value, kind) and (row.format == Format.BOOLEAN or not isinstance(value, bool)), (
            f"{event_type}: {path} = {value!r} is not {row.format}"
        )
        if row.format == Format.TIMESTAMP:
            assert len(str(value)) == 13, f"{event_type}: {path} is not epoch milliseconds"
        if isinstance(value, str) and row.size:
            assert len(value) <= row.size, f"{event_type}: {path} is longer than its documented size {row.size}"
        assert receives(audience, row.affiliates), f"{event_type}: {path} ({row.affiliates}) sent to {audience}"
    for name, row in rows.items():
        if row.conditional or not receives(audience, row.affiliates) or "[]" in name:
            continue
        parent = name.rsplit(".", 1)[0] if "." in name else None
        if parent and parent in rows and not receives(audience, rows[parent].affiliates):
            continue
        assert name in flat, f"{event_type}: documented field {name} is missing"


def _values(value, prefix: str = ""):
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            yield path, item
            yield from _values(item, path)
    elif isinstance(value, list):
        for element in value:
            yield from _values(element, f"{prefix}[]")


_FORM_TEXT = {
    Format.BOOLEAN: re.compile(r"^(true|false)$"),
    Format.DECIMAL: re.compile(r"^-?\d+\.\d{2}$"),
    Format.INTEGER: re.compile(r"^-?\d+$"),
    Format.DATETIME: re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$"),
}


def assert_form_documented(pairs: list[tuple[str, str]], event_type: str, audience: Audience = PRODUCER) -> None:
    """A 1.0 postback: each field once, each documented in the 1.0 table with text of its format, only the
    fields the audience receives, and every field it receives."""
    rows = {row.name: row for row in CATALOGUE[event_type].rows("1.0")}
    names = [name for name, _ in pairs]
    assert len(names) == len(set(names)), f"{event_type}: a 1.0 field is sent twice"
    for name, value in pairs:
        assert name in rows, f"{event_type}: 1.0 field {name} is not documented"
        row = rows[name]
        assert receives(audience, row.affiliates), f"{event_type}: 1.0 field {name} sent to {audience}"
        pattern = _FORM_TEXT.get(row.format)
        if value and pattern:
            assert pattern.match(value), f"{event_type}: 1.0 field {name} = {value!r} is not {row.format}"
    expected = {name for name, row in rows.items() if receives(audience, row.affiliates)}
    assert set(names) == expected


AFFILIATE_MARKINGS = (Affiliates.YES, Affiliates.NO, Affiliates.IF_ALLOWED)


# --- The story a body tells ----------------------------------------------------------------------------------

APPROVED_STATUSES = frozenset({"APPROVED", "COMPLETED", "REFUNDED", "CHARGEBACK", "DISPUTE"})
NEVER_APPROVED = frozenset({"BILLET_PRINTED", "CANCELED", "DELAYED", "EXPIRED"})  # in this lifecycle, never paid
WITHOUT_WARRANTY = frozenset({"BILLET_PRINTED", "CANCELED", "DELAYED"})  # production sends no warranty_date
SUBSCRIPTION_GOES_ON = frozenset({"STARTED", "ACTIVE", "DELAYED"})  # a next charge is still coming
PURCHASE_EVENT_TYPES = frozenset(
    {
        "PURCHASE_APPROVED",
        "PURCHASE_COMPLETE",
        "PURCHASE_CANCELED",
        "PURCHASE_REFUNDED",
        "PURCHASE_CHARGEBACK",
        "PURCHASE_PROTEST",
        "PURCHASE_DELAYED",
        "PURCHASE_EXPIRED",
        "PURCHASE_BILLET_PRINTED",
    }
)
_BILLET_BASE = date(1997, 10, 7)


def created_ms(payload: dict) -> int:
    """The event's moment, under either of Hotmart's spellings."""
    return payload["creation_date"] if "creation_date" in payload else payload["creationDate"]


def billet_due_date(barcode: str) -> date:
    """The due date a billet's typeable line carries (its last group: the due-date factor, then the amount);
    the factor restarted at 1000 on 2025-02-22."""
    factor = int(barcode.split()[-1][:4])
    return _BILLET_BASE + timedelta(days=factor - 1000 + 10000)


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def assert_tells_a_consistent_story(payload: dict) -> None:
    """The dates inside a body are in the order a sale lives them (ordered, approved, warranty, due date, next
    charge; the event itself after its order and approval), and it has no key its status forbids: no approval,
    warranty or refusal where there is none, no empty coupon or xcod, no next charge once the subscription
    stops, the billet's and PIX's fields for those payments only."""
    created, event, data = created_ms(payload), payload["event"], payload["data"]
    where = f"{event} {data.get('purchase', {}).get('transaction', '')}"
    if event in PURCHASE_EVENT_TYPES:
        purchase, payment = data["purchase"], data["purchase"]["payment"]
        status, ordered = purchase["status"], purchase["order_date"]
        assert ordered <= created, f"{where}: ordered after the event"
        approved = purchase.get("approved_date")
        if status in APPROVED_STATUSES:
            assert approved is not None and ordered <= approved <= created, f"{where}: approval out of order"
        else:
            assert status in NEVER_APPROVED and approved is None, f"{where}: approved_date on an unpaid purchase"
        warranty = data["product"].get("warranty_date")
        if status in WITHOUT_WARRANTY:
            assert warranty is None, f"{where}: warranty_date while {status}"
        else:
            assert warranty is not None and _ms(warranty) > (approved or ordered), f"{where}: warranty before sale"
        if status == "DISPUTE":
            assert created <= _ms(warranty), f"{where}: a refund request after the warranty"
        refused = "refusal_reason" in payment
        assert refused == (payment["type"] == "CREDIT_CARD" and status in ("CANCELED", "DELAYED")), (
            f"{where}: refusal_reason {'sent' if refused else 'missing'} while {status}"
        )
        assert ("billet_url" in payment) == ("billet_barcode" in payment) == (payment["type"] == "BILLET"), where
        assert ("pix_code" in payment) == (payment["type"] == "PIX"), where
        if payment["type"] == "BILLET":
            ordered_day = datetime.fromtimestamp(ordered / 1000, tz=UTC).date()
            assert billet_due_date(payment["billet_barcode"]) > ordered_day, f"{where}: due before the order"
        if payment["type"] == "PIX":
            assert payment["pix_expiration_date"] > ordered, f"{where}: PIX expired before the order"
        assert purchase["offer"].get("coupon_code", "x") != "", f"{where}: an empty coupon_code"
        assert purchase.get("origin", {}).get("xcod", "x") != "", f"{where}: an empty xcod"
        assert purchase["invoice_by"] == "HOTMART" and purchase["subscription_anticipation_purchase"] is False
        subscription = data.get("subscription")
        goes_on = subscription is not None and subscription["status"] in SUBSCRIPTION_GOES_ON
        assert ("date_next_charge" in purchase) == goes_on, f"{where}: date_next_charge and the subscription"
        assert ("recurrence_number" in purchase) == (subscription is not None), where
        if goes_on:
            assert purchase["date_next_charge"] > (approved or ordered), f"{where}: next charge before this one"
        if "buyer" in data:
            buyer = data["buyer"]
            phone = buyer["checkout_phone"]
            assert phone.isdigit() and len(phone) in (10, 11), f"{where}: checkout_phone {phone!r} is not whole"
            assert phone.startswith(buyer["checkout_phone_code"]), f"{where}: phone without its area code"
    elif event == "SUBSCRIPTION_CANCELLATION":
        assert data["cancellation_date"] <= created < data["date_next_charge"], f"{event}: dates out of order"
    elif event == "SWITCH_PLAN":
        assert data["switch_plan_date"] <= created, f"{event}: switched after the event"
    elif event == "UPDATE_SUBSCRIPTION_CHARGE_DATE":
        assert _ms(data["subscription"]["dateNextCharge"]) > created, f"{event}: the next charge is past"
