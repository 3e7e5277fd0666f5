"""A tiny schema language: each payload field is declared once, with its documentation and its source.

The same declaration builds the payload (``render``) and the Documentation tab (``document``): name, whether
affiliates receive it, description, format and size are never written twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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

    @property
    def is_container(self) -> bool:
        return self.format in (Format.OBJECT, Format.LIST)


def obj(name: str, description: str, *children: Field, affiliates: str = Affiliates.YES, when=None) -> Field:
    return Field(name, Format.OBJECT, description, children=children, affiliates=affiliates, when=when)


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


def render(fields: Iterable[Field], scope: Scope) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.when is not None and not f.when(scope):
            continue
        if f.format == Format.OBJECT:
            inner = scope if f.get is None else Scope(scope.ctx, f.get(scope))
            out[f.name] = render(f.children, inner)
        elif f.format == Format.LIST:
            out[f.name] = [render(f.children, Scope(scope.ctx, element)) for element in f.get(scope)]
        else:
            out[f.name] = _coerce(f.format, f.get(scope), f.name)
    return out


@dataclass(frozen=True)
class DocRow:
    """One line of an event's parameter table."""

    name: str  # dotted path, lists marked with []: data.commissions[].value
    affiliates: str
    description: str
    format: str
    size: int | None
    depth: int


def document(fields: Iterable[Field], prefix: str = "", depth: int = 0) -> list[DocRow]:
    rows: list[DocRow] = []
    for f in fields:
        path = f"{prefix}{f.name}"
        rows.append(DocRow(path, f.affiliates, f.description, f.format, f.size, depth))
        if f.children:
            child_prefix = f"{path}[]." if f.format == Format.LIST else f"{path}."
            rows.extend(document(f.children, child_prefix, depth + 1))
    return rows
