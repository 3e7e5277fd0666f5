"""A tiny schema language: each payload field is declared once, with its documentation and its source.

The same declaration builds the payload (``render``: JSON 2.0.0; ``render_form``: the legacy form-encoded 1.0,
through each field's historical ``v1`` name) and the Documentation tab (``document``, ``document_form``): name,
whether affiliates receive it, description, format and size are never written twice. Who reads the payload
(the producer, or an affiliate with or without the buyer's data) filters the fields by their marking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


class Format:
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    TIMESTAMP = "epoch milliseconds"
    DATETIME = "ISO 8601 date-time"
    UUID = "UUID"
    OBJECT = "object"
    LIST = "list of objects"


class Affiliates:
    """Whether a field is sent in the notifications an affiliate receives."""

    YES = "yes"
    NO = "no"
    IF_ALLOWED = "if the producer shares buyer data"


@dataclass(frozen=True)
class Audience:
    """Who a payload is built for: the producer gets every field; an affiliate only those marked for it."""

    affiliate: bool = False
    buyer_data: bool = False  # an affiliate's: whether the producer shares the buyer's data with affiliates

    def receives(self, marking: str) -> bool:
        if not self.affiliate or marking == Affiliates.YES:
            return True
        return marking == Affiliates.IF_ALLOWED and self.buyer_data


PRODUCER = Audience()


@dataclass(frozen=True)
class Scope:
    """What a getter reads: the payload context, and the current element inside a list."""

    ctx: Any
    item: Any = None


Getter = Callable[[Scope], Any]


@dataclass(frozen=True)
class Field:
    name: str
    format: str
    description: str
    size: int | None = None
    affiliates: str = Affiliates.YES
    get: Getter | None = None  # leaves and lists; an object without one reads the same scope
    children: tuple[Field, ...] = field(default_factory=tuple)
    when: Callable[[Scope], bool] | None = None  # present only when this is true
    v1: str | None = None  # the field's name in the legacy 1.0 postback; None: not sent in 1.0
    v1_get: Getter | None = None  # its 1.0 value when it differs from the 2.0.0 one (e.g. status in lower case)
    only_v1: bool = False  # a 1.0 field with no place in the 2.0.0 tree (e.g. ``aff``, ``cms_vendor``)

    @property
    def is_container(self) -> bool:
        return self.format in (Format.OBJECT, Format.LIST)


def obj(name: str, description: str, *children: Field, affiliates: str = Affiliates.YES, when=None) -> Field:
    return Field(name, Format.OBJECT, description, children=children, affiliates=affiliates, when=when)


def legacy(v1: str, fmt: str, description: str, get: Getter, size=None, affiliates: str = Affiliates.YES) -> Field:
    """A field of the 1.0 postback only: it has no counterpart in the 2.0.0 payload."""
    return Field(v1, fmt, description, size=size, affiliates=affiliates, get=get, v1=v1, only_v1=True)


def many(name: str, description: str, items: Getter, *children: Field, affiliates: str = Affiliates.YES) -> Field:
    return Field(name, Format.LIST, description, get=items, children=children, affiliates=affiliates)


def fact(path: str) -> Getter:
    """Read ``a.b.c`` from the context's facts."""
    keys = path.split(".")

    def getter(scope: Scope) -> Any:
        return _dig(scope.ctx.facts, keys, path)

    return getter


def item(path: str) -> Getter:
    """Read ``a.b`` from the current element of the enclosing list."""
    keys = path.split(".")

    def getter(scope: Scope) -> Any:
        return _dig(scope.item, keys, path)

    return getter


def const(value: Any) -> Getter:
    return lambda _scope: value


def _dig(data: Any, keys: list[str], path: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping) or key not in data:
            raise KeyError(f"payload fact {path!r} is missing")
        data = data[key]
    return data


def _coerce(fmt: str, value: Any, name: str) -> Any:
    if fmt in (Format.STRING, Format.DATETIME, Format.UUID):
        return "" if value is None else str(value)
    if fmt in (Format.INTEGER, Format.TIMESTAMP):
        return int(value)
    if fmt == Format.DECIMAL:
        number = Decimal(str(value)).quantize(Decimal("0.01"))
        # Hotmart writes whole amounts without a fraction (1500, not 1500.0) and others with it (149.5).
        return int(number) if number == number.to_integral_value() else float(number)
    if fmt == Format.BOOLEAN:
        return bool(value)
    raise ValueError(f"field {name!r} has unknown format {fmt!r}")


def render(fields: Iterable[Field], scope: Scope, audience: Audience = PRODUCER) -> dict[str, Any]:
    """The 2.0.0 payload (a JSON object) of ``fields``, with only what ``audience`` receives."""
    out: dict[str, Any] = {}
    for f in fields:
        if f.only_v1 or not audience.receives(f.affiliates):
            continue
        if f.when is not None and not f.when(scope):
            continue
        if f.format == Format.OBJECT:
            inner = scope if f.get is None else Scope(scope.ctx, f.get(scope))
            out[f.name] = render(f.children, inner, audience)
        elif f.format == Format.LIST:
            out[f.name] = [render(f.children, Scope(scope.ctx, element), audience) for element in f.get(scope)]
        else:
            out[f.name] = _coerce(f.format, f.get(scope), f.name)
    return out


def form_text(fmt: str, value: Any) -> str:
    """A value as the 1.0 postback writes it: text; amounts with two decimals, moments in ISO 8601 UTC."""
    if value is None:
        return ""
    if fmt == Format.BOOLEAN:
        return "true" if value else "false"
    if fmt == Format.DECIMAL:
        return str(Decimal(str(value)).quantize(Decimal("0.01")))
    if fmt == Format.INTEGER:
        return str(int(value))
    if fmt == Format.TIMESTAMP:
        moment = datetime.fromtimestamp(int(value) / 1000, tz=UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return str(value)


def render_form(
    fields: Iterable[Field], scope: Scope, audience: Audience = PRODUCER, present: bool = True
) -> list[tuple[str, str]]:
    """The 1.0 postback of ``fields``: (name, text) pairs in declaration order, with only what ``audience``
    receives. As in the historical postback every 1.0 field is sent, empty where it does not apply (a card
    purchase's ``billet_url``)."""
    pairs: list[tuple[str, str]] = []
    for f in fields:
        if not audience.receives(f.affiliates):
            continue
        here = present and (f.when is None or f.when(scope))
        if f.format == Format.OBJECT:
            inner = scope if f.get is None or not here else Scope(scope.ctx, f.get(scope))
            pairs.extend(render_form(f.children, inner, audience, here))
        elif f.format == Format.LIST:
            continue  # lists have no form: their 1.0 counterparts are declared as 1.0-only leaves
        elif f.v1:
            value = (f.v1_get or f.get)(scope) if here else None
            pairs.append((f.v1, form_text(f.format, value)))
    return pairs


@dataclass(frozen=True)
class DocRow:
    """One line of an event's parameter table."""

    name: str  # dotted path, lists marked with []: data.commissions[].value; the field's name in 1.0 tables
    affiliates: str
    description: str
    format: str
    size: int | None
    depth: int
    v1_name: str = ""  # in 2.0.0 tables: the field's name in the legacy 1.0 postback, if it has one
    conditional: bool = False  # present only in some payloads (e.g. billet fields, subscription block)


def document(fields: Iterable[Field], prefix: str = "", depth: int = 0, conditional: bool = False) -> list[DocRow]:
    """The 2.0.0 parameter table: every field of the JSON payload, nested."""
    rows: list[DocRow] = []
    for f in fields:
        if f.only_v1:
            continue
        path = f"{prefix}{f.name}"
        optional = conditional or f.when is not None
        rows.append(DocRow(path, f.affiliates, f.description, f.format, f.size, depth, f.v1 or "", optional))
        if f.children:
            child_prefix = f"{path}[]." if f.format == Format.LIST else f"{path}."
            rows.extend(document(f.children, child_prefix, depth + 1, optional))
    return rows


def document_form(fields: Iterable[Field], affiliates: str = Affiliates.YES) -> list[DocRow]:
    """The 1.0 parameter table: one row per form field, flat; every value is sent as text."""
    rows: list[DocRow] = []
    for f in fields:
        # A field inside an object affiliates do not receive is not sent to them either.
        marking = f.affiliates if affiliates == Affiliates.YES else _stricter(affiliates, f.affiliates)
        if f.is_container:
            rows.extend(document_form(f.children, marking))
        elif f.v1:
            fmt, size = (Format.DATETIME, 24) if f.format == Format.TIMESTAMP else (f.format, f.size)
            rows.append(DocRow(f.v1, marking, f.description, fmt, size, 0, f.v1))
    return rows


def _stricter(a: str, b: str) -> str:
    order = [Affiliates.YES, Affiliates.IF_ALLOWED, Affiliates.NO]
    return max(a, b, key=order.index)
