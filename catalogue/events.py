"""The 15 Hotmart webhook 2.0.0 event types and how the dashboard groups them."""

from __future__ import annotations

from django.db import models


class EventType(models.TextChoices):
    PURCHASE_APPROVED = "PURCHASE_APPROVED", "Approved purchase"
    PURCHASE_COMPLETE = "PURCHASE_COMPLETE", "Completed purchase"
    PURCHASE_CANCELED = "PURCHASE_CANCELED", "Canceled purchase"
    PURCHASE_REFUNDED = "PURCHASE_REFUNDED", "Refunded"
    PURCHASE_CHARGEBACK = "PURCHASE_CHARGEBACK", "Chargeback"
    PURCHASE_PROTEST = "PURCHASE_PROTEST", "Refund claimed (dispute)"
    PURCHASE_DELAYED = "PURCHASE_DELAYED", "Delayed purchase"
    PURCHASE_EXPIRED = "PURCHASE_EXPIRED", "Expired purchase"
    PURCHASE_BILLET_PRINTED = "PURCHASE_BILLET_PRINTED", "Billet printed (awaiting payment)"
    PURCHASE_OUT_OF_SHOPPING_CART = "PURCHASE_OUT_OF_SHOPPING_CART", "Cart abandonment"
    SUBSCRIPTION_CANCELLATION = "SUBSCRIPTION_CANCELLATION", "Subscription cancellation"
    SWITCH_PLAN = "SWITCH_PLAN", "Plan change"
    UPDATE_SUBSCRIPTION_CHARGE_DATE = "UPDATE_SUBSCRIPTION_CHARGE_DATE", "Subscription charge date changed"
    CLUB_FIRST_ACCESS = "CLUB_FIRST_ACCESS", "Members area: first access"
    CLUB_MODULE_COMPLETED = "CLUB_MODULE_COMPLETED", "Members area: module completed"


EVENT_GROUPS: dict[str, tuple[EventType, ...]] = {
    "Purchases": (
        EventType.PURCHASE_APPROVED,
        EventType.PURCHASE_COMPLETE,
        EventType.PURCHASE_CANCELED,
        EventType.PURCHASE_REFUNDED,
        EventType.PURCHASE_CHARGEBACK,
        EventType.PURCHASE_PROTEST,
        EventType.PURCHASE_DELAYED,
        EventType.PURCHASE_EXPIRED,
        EventType.PURCHASE_BILLET_PRINTED,
    ),
    "Cart": (EventType.PURCHASE_OUT_OF_SHOPPING_CART,),
    "Subscriptions": (
        EventType.SUBSCRIPTION_CANCELLATION,
        EventType.SWITCH_PLAN,
        EventType.UPDATE_SUBSCRIPTION_CHARGE_DATE,
    ),
    "Members area": (EventType.CLUB_FIRST_ACCESS, EventType.CLUB_MODULE_COMPLETED),
}

# Events about a subscription: they can only happen to a product sold by subscription.
SUBSCRIPTION_EVENTS = frozenset(EVENT_GROUPS["Subscriptions"])

# REST hook events, named the way Hotmart's help article lists them for Zapier, and the event types each one
# stands for: a subscription to "order" is a configuration listening to every purchase event.
HOOK_EVENTS: dict[str, tuple[EventType, ...]] = {
    "order": EVENT_GROUPS["Purchases"],
    "cart_abandonment": (EventType.PURCHASE_OUT_OF_SHOPPING_CART,),
    "plan_change": (EventType.SWITCH_PLAN,),
    "subscription_cancellation": (EventType.SUBSCRIPTION_CANCELLATION,),
}

# The purchase events: what happens to a transaction. The legacy 1.0 postback carries these only.
PURCHASE_EVENTS = frozenset(EVENT_GROUPS["Purchases"])

# Events an affiliate's configurations receive when the sale (or the cart, or the subscription) came through
# the affiliate's hotlink. Members-area events concern the buyer and the producer only.
AFFILIATE_EVENTS = frozenset(EVENT_GROUPS["Purchases"] + EVENT_GROUPS["Cart"] + EVENT_GROUPS["Subscriptions"])


class PayloadVersion(models.TextChoices):
    """The payload format a configuration receives: Hotmart's JSON 2.0.0 or the legacy form-encoded 1.0."""

    V2 = "2.0.0", "2.0.0 (JSON)"
    V1 = "1.0", "1.0 (legacy postback, form-encoded)"
