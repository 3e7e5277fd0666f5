"""Checks a payload against the real Hotmart sample of its event and against the catalogue's documentation rows.

Shared by the catalogue's tests (one-off sample facts) and the simulator's tests (payloads of tracked sales,
for every payment type, subscriptions, affiliates and the legacy 1.0 form).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from dispatcher.catalogue import CATALOGUE, PRODUCER, Audience
from dispatcher.catalogue.schema import Affiliates, Format

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
