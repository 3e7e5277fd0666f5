"""The facts an event about a tracked sale freezes: read from the transaction and subscription rows as they
stand when the event happens, in the same terms as ``catalogue.facts`` (the catalogue reads both)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from catalogue.facts import (
    CHECKOUT_COUNTRY,
    commissions,
    epoch_ms,
    iso_utc,
    plan_find,
    producer_facts,
    product_facts,
    purchase_block,
    warranty_end,
)
from configurations.models import Account, Product
from sales.lifecycle import SUBSCRIPTION_LIVE
from sales.models import Purchase, Subscription

MODULE_NAMES = (
    "Boas-vindas",
    "Primeiros passos",
    "Fundamentos",
    "Na prática",
    "Casos reais",
    "Encerramento",
)


def modules_for(product: Product) -> list[dict[str, str]]:
    """The product's members-area modules: stable ids, numbered names."""
    return [
        {
            "id": hashlib.sha1(f"{product.ucode}:{index}".encode()).hexdigest()[:10],
            "name": f"Módulo {index + 1}: {name}",
        }
        for index, name in enumerate(MODULE_NAMES)
    ]


def affiliate_facts(affiliate_user) -> list[dict[str, str]]:
    """``affiliates`` of a sale: the affiliate credited, by its code and name; empty for a direct sale."""
    if affiliate_user is None:
        return []
    account = Account.objects.filter(user=affiliate_user).first()
    if account is None or not account.affiliate_code:
        return []
    name = account.producer_name or affiliate_user.get_full_name() or affiliate_user.get_username()
    return [{"code": account.affiliate_code, "name": name}]


def subscription_facts(subscription: Subscription, **moment: Any) -> dict[str, Any]:
    """The subscription block, with the moments of the event at hand (``cancellation_date``, ...) in ms."""
    product = subscription.product
    plan = plan_find(product, subscription.plan_key)
    previous = plan_find(product, subscription.previous_plan_key) if subscription.previous_plan_key else plan
    return {
        "id": subscription.hotmart_id,
        "status": subscription.status,
        "subscriber_code": subscription.subscriber_code,
        "plan": plan,
        "previous_plan": previous,
        "recurrence_value": plan["price"],
        "recurrence_number": subscription.recurrence_number,
        "cancellation_date": epoch_ms(subscription.cancelled_at) if subscription.cancelled_at else None,
        "date_next_charge": epoch_ms(subscription.date_next_charge),
        "date_next_charge_iso": iso_utc(subscription.date_next_charge, millis=True),
        "old_charge_day": subscription.charge_day,
        "new_charge_day": subscription.charge_day,
        "switch_plan_date": epoch_ms(subscription.plan_switched_at) if subscription.plan_switched_at else None,
        **moment,
    }


def purchase_facts(purchase: Purchase, *, producer: Account) -> dict[str, Any]:
    """Everything a purchase event's payloads are built from, as the purchase stands now."""
    product = purchase.product
    subscription = purchase.subscription
    warranty = purchase.warranty_until or warranty_end(product, purchase.approved_at or purchase.ordered_at)
    recurrence = None
    if subscription is not None:
        # A subscription that no longer goes on (never paid, refunded, cancelled) has no next charge.
        live = subscription.status in SUBSCRIPTION_LIVE
        recurrence = {
            "number": purchase.recurrence_number,
            "date_next_charge": epoch_ms(subscription.date_next_charge) if live else None,
        }
    original_price = Decimal(purchase.price)
    if purchase.coupon_code:
        original_price = (Decimal(purchase.price) / (1 - COUPON_DISCOUNT)).quantize(Decimal("0.01"))
    return {
        "product": product_facts(product, producer, warranty_until=warranty),
        "producer": producer_facts(producer),
        "buyer": purchase.buyer,
        "affiliates": affiliate_facts(purchase.affiliate),
        "commissions": commissions(
            Decimal(purchase.price), purchase.currency, affiliate_percent=purchase.affiliate_percent
        ),
        "purchase": purchase_block(
            transaction=purchase.transaction,
            status=purchase.status,
            ordered_at=purchase.ordered_at,
            approved_at=purchase.approved_at,
            currency=purchase.currency,
            price=purchase.price,
            full_price=purchase.full_price,
            original_price=original_price,
            payment_type=purchase.payment_type,
            installments=purchase.installments,
            billet=purchase.billet,
            pix=purchase.pix,
            refusal_reason=purchase.refusal_reason,
            offer_code=purchase.offer_code,
            coupon_code=purchase.coupon_code,
            origin=purchase.origin,
            recurrence=recurrence,
        ),
        "subscription": subscription_facts(subscription) if subscription is not None else None,
        "member": {"module": None},
    }


def subscription_event_facts(subscription: Subscription, *, producer: Account, **moment: Any) -> dict[str, Any]:
    """Facts of a subscription event (cancellation, plan switch, charge day change)."""
    return {
        "product": product_facts(
            subscription.product, producer, warranty_until=warranty_end(subscription.product, subscription.created_at)
        ),
        "producer": producer_facts(producer),
        "buyer": subscription.buyer,
        "affiliates": affiliate_facts(subscription.affiliate),
        "subscription": subscription_facts(subscription, **moment),
    }


def cart_facts(
    product: Product, *, producer: Account, buyer: dict[str, Any], affiliate_user, occurred_at: datetime
) -> dict[str, Any]:
    """Facts of a cart abandonment: the product, the visitor's checkout data, the offer, the affiliate."""
    return {
        "product": product_facts(product, producer, warranty_until=warranty_end(product, occurred_at)),
        "producer": producer_facts(producer),
        "buyer": buyer,
        "affiliates": affiliate_facts(affiliate_user),
        "purchase": {"offer_code": offer_code_for(product), "checkout_country": CHECKOUT_COUNTRY},
    }


def member_facts(purchase: Purchase, *, producer: Account, module: dict[str, str] | None = None) -> dict[str, Any]:
    """Facts of a members-area event: the purchase's facts and the module at hand."""
    facts = purchase_facts(purchase, producer=producer)
    facts["member"] = {"module": module}
    return facts


def offer_code_for(product: Product) -> str:
    return f"{product.hotmart_id:x}"[-8:]


COUPON_DISCOUNT = Decimal("0.10")  # a coupon takes 10% off the offer's price
