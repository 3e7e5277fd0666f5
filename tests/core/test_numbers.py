"""One number parser for what people type: finite numbers only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.numbers import NotANumber, finite_decimal, finite_float


@pytest.mark.parametrize(("text", "number"), [("97.00", Decimal("97.00")), (" 1e3 ", Decimal("1E+3")), (5, Decimal(5))])
def test_finite_decimals_parse(text, number):
    assert finite_decimal(text) == number


@pytest.mark.parametrize(("text", "number"), [("1.5", 1.5), ("-2", -2.0), (3, 3.0), ("1e308", 1e308)])
def test_finite_floats_parse(text, number):
    assert finite_float(text) == number


@pytest.mark.parametrize(
    "text", ["nan", "NaN", "-nan", "sNaN", "inf", "-Infinity", "infinity", "abc", "", None, True, "1e999", "0x10"]
)
def test_what_is_not_a_finite_number_is_refused_by_both(text):
    with pytest.raises(NotANumber):
        finite_float(text)
    if text != "1e999":  # a finite Decimal, just not a float
        with pytest.raises(NotANumber):
            finite_decimal(text)
