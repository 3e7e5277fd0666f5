"""Plain-data views of what the simulator recorded, for ``--json`` output (and any page or API that wants the
same shape): a SaleOutcome, a transaction with its next moves, a subscription."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sales.lifecycle import PaymentType
from sales.models import Purchase, Subscription
from sales.selectors import subscription_actions, transaction_moves
from sales.services import SaleOutcome


def _iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, ``Z``-suffixed, as the API writes every moment."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def purchase_data(purchase: Purchase) -> dict[str, Any]:
    """A transaction as it stands: status, payment fields, buyer, tracking, and the moves it offers next."""
    affiliate = purchase.affiliate if purchase.affiliate_id else None
    return {
        "transaction": purchase.transaction,
        "status": purchase.status,
        "product": purchase.product.hotmart_id,
        "payment_type": purchase.payment_type,
        "installments": purchase.installments,
        "price": str(purchase.price),
        "full_price": str(purchase.full_price),
        "currency": purchase.currency,
        "offer_code": purchase.offer_code,
        "coupon_code": purchase.coupon_code or None,
        "origin": purchase.origin or None,
        "buyer_email": purchase.buyer.get("email"),
        "buyer_name": purchase.buyer.get("name"),
        "affiliate": affiliate.get_username() if affiliate else None,
        "affiliate_code": _affiliate_code(affiliate),
        "subscription": purchase.subscription.subscriber_code if purchase.subscription_id else None,
        "recurrence_number": purchase.recurrence_number,
        "billet": purchase.billet or None,
        "pix": purchase.pix or None,
        "refusal_reason": purchase.refusal_reason or None,
        "ordered_at": _iso(purchase.ordered_at),
        "approved_at": _iso(purchase.approved_at),
        "payment_due_at": _iso(purchase.payment_due_at),
        "warranty_until": _iso(purchase.warranty_until),
        "last_event_at": _iso(purchase.last_event_at),
        "next": [
            {
                "to": move.target,
                "event": move.event,
                "verb": move.verb,
                "meaning": move.meaning,
                "not_before": _iso(move.not_before),
                "until": _iso(move.until),
                "possible_now": move.possible_now,
            }
            for move in transaction_moves(purchase=purchase)
        ],
    }


def _affiliate_code(affiliate) -> str | None:
    account = getattr(affiliate, "webhook_account", None) if affiliate is not None else None
    return account.affiliate_code if account is not None else None


def subscription_data(subscription: Subscription) -> dict[str, Any]:
    """A subscription as it stands: plan, charge day, next charge, and which actions it allows now."""
    actions = subscription_actions(subscription=subscription)
    return {
        "subscriber_code": subscription.subscriber_code,
        "status": subscription.status,
        "product": subscription.product.hotmart_id,
        "plan": subscription.plan_key,
        "previous_plan": subscription.previous_plan_key or None,
        "payment_type": subscription.payment_type,
        "buyer_email": subscription.buyer.get("email"),
        "charge_day": subscription.charge_day,
        "date_next_charge": _iso(subscription.date_next_charge),
        "recurrence_number": subscription.recurrence_number,
        "cancelled_at": _iso(subscription.cancelled_at),
        "plan_switched_at": _iso(subscription.plan_switched_at),
        "last_event_at": _iso(subscription.last_event_at),
        "actions": {
            "renew": actions.renew,
            "cancel": actions.cancel,
            "switch_plan": actions.switch_plan,
            "change_charge_day": actions.change_charge_day,
            "reason": actions.reason or None,
        },
    }


def outcome_data(outcome: SaleOutcome) -> dict[str, Any]:
    """What an action recorded; ``event`` and ``notifications`` keep the shape ``simulate --json`` always had."""
    event = outcome.event
    return {
        "event": {
            "id": str(event.uuid),
            "pk": event.pk,
            "type": event.event_type,
            "occurred_at": event.occurred_at.isoformat(),
            "product": event.facts["product"]["id"],
            "transaction": event.transaction or None,
            "buyer_email": event.buyer_email,
        },
        "notifications": [n.pk for n in outcome.notifications],
        "deliveries": [
            {"notification": n.pk, "configuration": n.configuration_id, "owner": n.owner_id, "format": n.content_type}
            for n in outcome.notifications
        ],
        "transaction": purchase_data(outcome.purchase) if outcome.purchase is not None else None,
        "subscription": subscription_data(outcome.subscription) if outcome.subscription is not None else None,
        "notes": outcome.notes,
    }


def payment_label(purchase: Purchase) -> str:
    label = PaymentType(purchase.payment_type).label.lower()
    if purchase.payment_type == PaymentType.CREDIT_CARD:
        label += f", {purchase.installments}x"
    return label


def outcome_lines(outcome: SaleOutcome) -> list[str]:
    """What an action recorded, for people: the event, the sale as it stands, where it went, what can follow."""
    event = outcome.event
    when = event.occurred_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [f"{event.event_type} at {when}  (event {event.uuid})", *(f"  {note}" for note in outcome.notes)]
    purchase, subscription = outcome.purchase, outcome.subscription
    if purchase is not None:
        lines.append(
            f"  transaction {purchase.transaction}: {purchase.status} ({payment_label(purchase)}, "
            f"{purchase.currency} {purchase.full_price}), buyer {purchase.buyer.get('email')}"
        )
        if purchase.billet:
            lines.append(f"  billet {purchase.billet['url']}  {purchase.billet['barcode']}")
        if purchase.pix:
            lines.append(f"  pix {purchase.pix['qrcode']}")
        if purchase.affiliate_id:
            lines.append(f"  through the hotlink of affiliate {purchase.affiliate.get_username()}")
    elif event.transaction:
        lines.append(f"  transaction {event.transaction}, buyer {event.buyer_email}")
    elif event.buyer_email:
        lines.append(f"  buyer {event.buyer_email}")
    if subscription is not None:
        lines.append(
            f"  subscription {subscription.subscriber_code}: {subscription.status} ({subscription.plan_key}, "
            f"charged on day {subscription.charge_day}, next {subscription.date_next_charge:%Y-%m-%d})"
        )
    if outcome.notifications:
        targets = ", ".join(
            f"{n.pk} -> {n.configuration.name if n.configuration_id else '?'}"
            + (f" ({n.owner.get_username()})" if n.owner_id != event.owner_id else "")
            for n in outcome.notifications
        )
        lines.append(f"  notifications: {targets}")
    else:
        lines.append("  no active configuration wants this event: no notification created")
    if purchase is not None:
        moves = transaction_moves(purchase=purchase)
        if moves:
            described, waits = [], False
            for move in moves:
                text = move.verb
                if move.not_before and move.not_before > event.occurred_at:
                    text += f" (really {move.not_before:%Y-%m-%d})"
                    waits = True
                if move.until:
                    text += f" (until {move.until:%Y-%m-%d})"
                described.append(text)
            how = f"simulate --transaction {purchase.transaction} --to ...{' [--schedule]' if waits else ''}"
            lines.append(f"  next: {', '.join(described)}  ({how})")
        else:
            lines.append(f"  {purchase.status} is final.")
    return lines
