"""Numbers typed by people (form fields, command-line options, scenario files): one parser for all, refusing
what is not a finite number. ``Decimal("NaN")`` and ``float("inf")`` parse, but compare, round and render
badly (a NaN price broke the product page; a NaN delay broke ``inbox create``), so they are refused here."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation


class NotANumber(ValueError):
    """The text is not a finite number; its message says so in a few words, for a form or a command line."""


def finite_decimal(value: object) -> Decimal:
    """``"97.00"``, ``97``, ``Decimal("97")`` -> a finite Decimal; NotANumber for ``nan``, ``inf``, ``abc``, None."""
    if isinstance(value, bool):
        raise NotANumber(f"{value!r} is not a number")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise NotANumber(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise NotANumber(f"{value!r} is not a finite number")
    return number


def finite_float(value: object) -> float:
    """``"1.5"``, ``2`` -> a finite float; NotANumber for ``nan``, ``inf``, ``1e999`` (infinite as a float), junk."""
    if isinstance(value, bool):
        raise NotANumber(f"{value!r} is not a number")
    try:
        number = float(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise NotANumber(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise NotANumber(f"{value!r} is not a finite number")
    return number


WHOLE_NUMBER_DIGITS = 18  # every 18-digit number fits a database's 64-bit integer


def whole_number(text: str | None) -> int | None:
    """``"42"`` -> 42; None for anything but 1 to 18 ASCII digits (``"²"`` and ``"٣"`` are digits to
    ``str.isdigit``, and ``int("²")`` raises)."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= WHOLE_NUMBER_DIGITS):
        return None
    return int(text)
