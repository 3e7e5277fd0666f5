"""Template helpers of the Simulator page: the colour of a transaction's or a subscription's status."""

from __future__ import annotations

from django import template

from sales.lifecycle import PurchaseStatus, SubscriptionStatus

register = template.Library()

_PURCHASE_TONES = {
    PurchaseStatus.APPROVED: "ok",
    PurchaseStatus.COMPLETED: "ok",
    PurchaseStatus.BILLET_PRINTED: "pending",
    PurchaseStatus.DELAYED: "client",
    PurchaseStatus.DISPUTE: "client",
    PurchaseStatus.CANCELED: "error",
    PurchaseStatus.CHARGEBACK: "error",
    PurchaseStatus.EXPIRED: "neutral",
    PurchaseStatus.REFUNDED: "neutral",
}
_SUBSCRIPTION_TONES = {
    SubscriptionStatus.ACTIVE: "ok",
    SubscriptionStatus.STARTED: "pending",
    SubscriptionStatus.DELAYED: "client",
}


@register.filter
def sale_tone(status: str) -> str:
    """The badge colour of a transaction's status: ok (paid), pending, client (at risk), error, neutral (over)."""
    return _PURCHASE_TONES.get(status, "neutral")


@register.filter
def subscription_tone(status: str) -> str:
    return _SUBSCRIPTION_TONES.get(status, "neutral")


_CHARGED_AGAIN = {SubscriptionStatus.ACTIVE, SubscriptionStatus.STARTED, SubscriptionStatus.DELAYED}


@register.filter
def charged_again(status: str) -> bool:
    """Whether a subscription in this status has a next charge (a cancelled or inactive one has none)."""
    return status in _CHARGED_AGAIN
