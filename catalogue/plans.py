"""A subscription product's plans: which periods it is sold in, and the price of each charge.

A product's owner chooses the periods and, if it likes, the price of each (``Product.plans``, written by
``configurations.services.product_create`` and ``product_update``); a plan without a price of its own costs
the product's price times its months, less the period's discount. A product that never chose has three plans:
monthly (the price), quarterly (3 months, 10% off) and yearly (12 months, 20% off). Payloads name a plan by id,
name and offer code, made here from the product so they stay the same from one event to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.numbers import finite_decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    key: str
    label: str  # what Hotmart calls a plan of this period
    months: int
    number: int  # part of the plan's id: the three first periods kept the numbers they always had
    discount: Decimal  # what is left of the monthly price per month: a plan without a price of its own

    @property
    def discount_percent(self) -> int:
        return int(self.discount * 100)


PLAN_PERIODS: dict[str, Period] = {
    period.key: period
    for period in (
        Period("monthly", "Plano Mensal", 1, 0, Decimal("1.00")),
        Period("bimonthly", "Plano Bimestral", 2, 3, Decimal("1.00")),
        Period("quarterly", "Plano Trimestral", 3, 1, Decimal("0.90")),
        Period("semiannual", "Plano Semestral", 6, 4, Decimal("0.85")),
        Period("yearly", "Plano Anual", 12, 2, Decimal("0.80")),
    )
}
DEFAULT_PLAN_KEYS = ("monthly", "quarterly", "yearly")


def derived_price(monthly_price: Decimal | str, key: str) -> Decimal:
    """The price of a charge of period ``key`` derived from a monthly price, with the period's discount.
    NotANumber (a ValueError) when the monthly price is not a finite number."""
    period = PLAN_PERIODS[key]
    return (finite_decimal(monthly_price) * period.months * period.discount).quantize(CENT)


def plan_prices(product) -> dict[str, Decimal]:
    """The product's plans as {period key: price of a charge}, shortest period first."""
    chosen = {e["key"]: e.get("price") for e in product.plans or () if e.get("key") in PLAN_PERIODS}
    if not chosen:
        chosen = dict.fromkeys(DEFAULT_PLAN_KEYS)
    return {
        key: derived_price(product.price, key) if chosen[key] in (None, "") else Decimal(str(chosen[key]))
        for key in PLAN_PERIODS
        if key in chosen
    }


def plans_for(product) -> list[dict[str, Any]]:
    """The product's plans: key, id, name, offer code, months between charges and price per charge."""
    plans = []
    for key, price in plan_prices(product).items():
        period = PLAN_PERIODS[key]
        plans.append(
            {
                "key": key,
                "id": product.hotmart_id * 10 + period.number,
                "name": f"{period.label} - {product.name}"[:255],
                "offer_code": f"{product.hotmart_id:x}{period.number}"[-8:],
                "months": period.months,
                "price": str(price),
            }
        )
    return plans


def plan_find(product, wanted: str | int | None) -> dict[str, Any] | None:
    """A plan of the product by key (``monthly``), id or name; its first (shortest) plan when ``wanted`` is empty."""
    plans = plans_for(product)
    if wanted in (None, ""):
        return plans[0]
    text = str(wanted).strip().lower()
    for plan in plans:
        if text in (plan["key"], str(plan["id"]), plan["name"].lower()):
            return plan
    return None
