"""Queries on transactions and subscriptions shared by the simulator page, the command line and the API:
what exists, and which moves each one offers right now (the simulator's buttons)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from catalogue.facts import plans_for
from configurations.models import Product
from history.models import Event
from history.selectors import Page, keyset_page
from sales import lifecycle
from sales.facts import modules_for
from sales.lifecycle import ACCESS, AWAITING_PAYMENT, PAYMENT_DUE, WARRANTY_END, SubscriptionStatus
from sales.models import Purchase, Subscription

# What showing a transaction reads besides the row: its product, subscription and affiliate (with its code).
_PURCHASE_RELATED = ("product", "subscription", "affiliate__webhook_account")


def transaction_get(*, owner_id: int, transaction: str) -> Purchase | None:
    return (
        Purchase.objects.select_related(*_PURCHASE_RELATED)
        .filter(owner_id=owner_id, transaction=(transaction or "").strip().upper())
        .first()
    )


def transaction_page(
    *,
    owner_id: int,
    status: str | None = None,
    product_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """One page of the owner's transactions, newest first, optionally of one status or product (its pk);
    keyset-paginated like the notifications (``cursor`` is the previous page's ``next_cursor``)."""
    queryset = Purchase.objects.filter(owner_id=owner_id).select_related(*_PURCHASE_RELATED)
    if status:
        queryset = queryset.filter(status=status)
    if product_id is not None:
        queryset = queryset.filter(product_id=product_id)
    return keyset_page(queryset, cursor=cursor, limit=limit)


def transaction_list(*, owner_id: int, status: str | None = None, limit: int = 50) -> list[Purchase]:
    """The owner's newest transactions."""
    return transaction_page(owner_id=owner_id, status=status, limit=limit).items


def transaction_owner_id(*, transaction: str) -> int | None:
    """Whose transaction this is (the command line finds the producer from the code alone)."""
    return (
        Purchase.objects.filter(transaction=(transaction or "").strip().upper())
        .values_list("owner_id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class Move:
    """A move the simulator offers for a transaction: its target status, event, and when it can happen."""

    target: str
    event: str
    verb: str
    meaning: str
    not_before: datetime | None  # it happens at this moment when clicked earlier (e.g. completion)
    until: datetime | None  # no longer possible after this moment (a refund request after the warranty)
    possible_now: bool  # False when ``until`` has passed


def transaction_moves(*, purchase: Purchase, now: datetime | None = None) -> list[Move]:
    """The legal moves from where the transaction stands, in ``sales.lifecycle`` order; empty when final."""
    now = now or timezone.now()
    moves = []
    for rule in lifecycle.rules_from(purchase.status, purchase.payment_type):
        not_before = _moment(purchase, rule.not_before)
        until = _moment(purchase, rule.until)
        earliest = max(now, purchase.last_event_at, not_before) if not_before else max(now, purchase.last_event_at)
        moves.append(
            Move(
                target=rule.target,
                event=rule.event,
                verb=rule.verb,
                meaning=rule.meaning,
                not_before=not_before,
                until=until,
                possible_now=until is None or earliest <= until,
            )
        )
    return moves


def _moment(purchase: Purchase, name: str | None) -> datetime | None:
    if name == WARRANTY_END:
        return purchase.warranty_until
    if name == PAYMENT_DUE:
        return purchase.payment_due_at
    return None


def transaction_timeline(*, owner_id: int, transaction: str) -> list[Event]:
    """The events recorded for a transaction (purchase and members-area events), oldest first."""
    code = (transaction or "").strip().upper()
    return list(Event.objects.filter(owner_id=owner_id, transaction=code).order_by("occurred_at", "id"))


def subscription_get(*, owner_id: int, subscriber_code: str) -> Subscription | None:
    return (
        Subscription.objects.select_related("product", "affiliate")
        .filter(owner_id=owner_id, subscriber_code=(subscriber_code or "").strip().upper())
        .first()
    )


def subscription_page(*, owner_id: int, status: str | None = None, cursor: str | None = None, limit: int = 50) -> Page:
    """One page of the owner's subscriptions, newest first, keyset-paginated like the transactions."""
    queryset = Subscription.objects.filter(owner_id=owner_id).select_related("product")
    if status:
        queryset = queryset.filter(status=status)
    return keyset_page(queryset, cursor=cursor, limit=limit)


def subscription_list(*, owner_id: int, limit: int = 50) -> list[Subscription]:
    return subscription_page(owner_id=owner_id, limit=limit).items


def subscription_owner_id(*, subscriber_code: str) -> int | None:
    code = (subscriber_code or "").strip().upper()
    return Subscription.objects.filter(subscriber_code=code).values_list("owner_id", flat=True).first()


def subscription_purchases(*, subscription: Subscription) -> QuerySet[Purchase]:
    """The subscription's charges, first recurrence first."""
    return subscription.purchases.select_related(*_PURCHASE_RELATED).order_by("recurrence_number")


@dataclass(frozen=True)
class SubscriptionActions:
    """What the simulator offers for a subscription right now."""

    renew: bool
    cancel: bool
    switch_plan: bool
    change_charge_day: bool
    reason: str  # why renewing is not possible, when it is not


def subscription_actions(*, subscription: Subscription) -> SubscriptionActions:
    active = subscription.status == SubscriptionStatus.ACTIVE
    live = subscription.status in lifecycle.SUBSCRIPTION_LIVE
    latest = subscription.purchases.order_by("-recurrence_number").first()
    pending = latest is not None and latest.status in AWAITING_PAYMENT
    reason = ""
    if not active:
        reason = f"The subscription is {subscription.status}."
    elif pending:
        reason = f"Charge {latest.recurrence_number} ({latest.transaction}) is still {latest.status}."
    return SubscriptionActions(
        renew=active and not pending, cancel=live, switch_plan=active, change_charge_day=active, reason=reason
    )


def product_plans(*, product: Product) -> list[dict]:
    """A subscription product's plans (key, id, name, offer code, months, price); empty for other products."""
    return plans_for(product) if product.is_subscription else []


def member_progress(*, purchase: Purchase) -> dict:
    """Whether the buyer can enter the members area, entered it, and which modules it completed."""
    modules = modules_for(purchase.product)
    done = set(purchase.modules_completed)
    return {
        "has_access": purchase.status in ACCESS,
        "first_access_at": purchase.first_access_at,
        "modules": [{**module, "completed": module["id"] in done} for module in modules],
    }
