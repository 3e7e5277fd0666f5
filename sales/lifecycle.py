"""The purchase lifecycle as data: statuses, payment types, which transition is legal, which event it emits.

Pure: no database. ``sales.services`` asks it what may happen to a transaction; ``docs/lifecycle.md`` draws
it; ``tests/sales/test_lifecycle.py`` walks every pair of statuses. A change to the machine is a change here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from catalogue.events import EventType


class PurchaseStatus(models.TextChoices):
    BILLET_PRINTED = "BILLET_PRINTED", "Waiting for payment (billet or PIX issued)"
    APPROVED = "APPROVED", "Approved"
    DELAYED = "DELAYED", "Delayed (payment overdue)"
    EXPIRED = "EXPIRED", "Expired (never paid)"
    CANCELED = "CANCELED", "Canceled (payment refused)"
    COMPLETED = "COMPLETED", "Completed (warranty over)"
    REFUNDED = "REFUNDED", "Refunded"
    CHARGEBACK = "CHARGEBACK", "Chargeback"
    DISPUTE = "DISPUTE", "In dispute (refund requested)"


class PaymentType(models.TextChoices):
    CREDIT_CARD = "CREDIT_CARD", "Credit card"
    BILLET = "BILLET", "Billet (boleto)"
    PIX = "PIX", "PIX"


class SubscriptionStatus(models.TextChoices):
    STARTED = "STARTED", "Started (first payment awaited)"
    ACTIVE = "ACTIVE", "Active"
    DELAYED = "DELAYED", "Delayed (a charge is overdue)"
    INACTIVE = "INACTIVE", "Inactive (never paid, refunded or charged back)"
    CANCELLED_BY_CUSTOMER = "CANCELLED_BY_CUSTOMER", "Cancelled by the subscriber"
    CANCELLED_BY_SELLER = "CANCELLED_BY_SELLER", "Cancelled by the producer"
    CANCELLED_BY_ADMIN = "CANCELLED_BY_ADMIN", "Cancelled by Hotmart"


# The event each status is reached by.
EVENT_FOR_STATUS: dict[str, str] = {
    PurchaseStatus.BILLET_PRINTED: EventType.PURCHASE_BILLET_PRINTED,
    PurchaseStatus.APPROVED: EventType.PURCHASE_APPROVED,
    PurchaseStatus.DELAYED: EventType.PURCHASE_DELAYED,
    PurchaseStatus.EXPIRED: EventType.PURCHASE_EXPIRED,
    PurchaseStatus.CANCELED: EventType.PURCHASE_CANCELED,
    PurchaseStatus.COMPLETED: EventType.PURCHASE_COMPLETE,
    PurchaseStatus.REFUNDED: EventType.PURCHASE_REFUNDED,
    PurchaseStatus.CHARGEBACK: EventType.PURCHASE_CHARGEBACK,
    PurchaseStatus.DISPUTE: EventType.PURCHASE_PROTEST,
}
STATUS_FOR_EVENT = {event: status for status, event in EVENT_FOR_STATUS.items()}

# What a person calls each move (buttons, scenario steps, ``simulate --to``).
VERB_FOR_STATUS: dict[str, str] = {
    PurchaseStatus.BILLET_PRINTED: "print billet",
    PurchaseStatus.APPROVED: "approve",
    PurchaseStatus.DELAYED: "delay",
    PurchaseStatus.EXPIRED: "expire",
    PurchaseStatus.CANCELED: "cancel",
    PurchaseStatus.COMPLETED: "complete",
    PurchaseStatus.REFUNDED: "refund",
    PurchaseStatus.CHARGEBACK: "chargeback",
    PurchaseStatus.DISPUTE: "dispute",
}

CARD = frozenset({PaymentType.CREDIT_CARD})
BILLET = frozenset({PaymentType.BILLET})
BILLET_OR_PIX = frozenset({PaymentType.BILLET, PaymentType.PIX})
CARD_OR_BILLET = frozenset({PaymentType.CREDIT_CARD, PaymentType.BILLET})  # a PIX is never overdue: it expires
ANY = frozenset(PaymentType.values)

# Moments a transition waits for or must come before.
WARRANTY_END = "warranty_end"  # the purchase's warranty (refund) period is over
PAYMENT_DUE = "payment_due"  # the billet's due date, or the PIX code's expiry


@dataclass(frozen=True)
class Rule:
    """One legal move: from ``source`` to ``target`` for these payment types, emitting ``event``."""

    source: str
    target: str
    payments: frozenset[str]
    meaning: str
    not_before: str | None = None  # WARRANTY_END or PAYMENT_DUE: the move happens at that moment or later
    until: str | None = None  # WARRANTY_END: the move is possible up to that moment only

    @property
    def event(self) -> str:
        return EVENT_FOR_STATUS[self.target]

    @property
    def verb(self) -> str:
        return VERB_FOR_STATUS[self.target]


S = PurchaseStatus
TRANSITIONS: tuple[Rule, ...] = (
    Rule(S.BILLET_PRINTED, S.APPROVED, BILLET_OR_PIX, "the buyer paid the billet or the PIX code"),
    Rule(S.BILLET_PRINTED, S.DELAYED, BILLET, "the billet's due date passed unpaid", not_before=PAYMENT_DUE),
    Rule(S.BILLET_PRINTED, S.EXPIRED, BILLET_OR_PIX, "never paid: the billet or PIX expired", not_before=PAYMENT_DUE),
    Rule(S.DELAYED, S.APPROVED, CARD_OR_BILLET, "the overdue payment arrived (a late billet, a card charge retried)"),
    Rule(S.DELAYED, S.EXPIRED, BILLET, "the overdue billet was never paid"),
    Rule(S.DELAYED, S.CANCELED, CARD, "the overdue card charge was given up"),
    Rule(S.APPROVED, S.COMPLETED, ANY, "the warranty ended without a refund", not_before=WARRANTY_END),
    Rule(S.APPROVED, S.REFUNDED, ANY, "the producer (or Hotmart) refunded the buyer"),
    Rule(S.APPROVED, S.CHARGEBACK, CARD, "the card holder disputed the charge with the bank"),
    Rule(S.APPROVED, S.DISPUTE, ANY, "the buyer asked for a refund within the warranty", until=WARRANTY_END),
    Rule(S.DISPUTE, S.REFUNDED, ANY, "the refund request was accepted"),
    Rule(S.DISPUTE, S.APPROVED, ANY, "the refund request was refused: the sale stands"),
    Rule(S.COMPLETED, S.CHARGEBACK, CARD, "the card holder disputed the charge after the warranty"),
)

# Where a transaction starts: (payment type, whether it is a subscription renewal) -> possible first statuses.
STARTS: dict[tuple[str, bool], tuple[str, ...]] = {
    (PaymentType.CREDIT_CARD, False): (S.APPROVED, S.CANCELED),
    (PaymentType.CREDIT_CARD, True): (S.APPROVED, S.DELAYED),
    (PaymentType.BILLET, False): (S.BILLET_PRINTED,),
    (PaymentType.BILLET, True): (S.BILLET_PRINTED,),
    (PaymentType.PIX, False): (S.BILLET_PRINTED,),
    (PaymentType.PIX, True): (S.BILLET_PRINTED,),
}

FINAL = frozenset(status for status in PurchaseStatus.values if not any(r.source == status for r in TRANSITIONS))
# Statuses in which the buyer has access (the members area is open).
ACCESS = frozenset({S.APPROVED, S.COMPLETED, S.DISPUTE})
# Statuses in which the transaction still waits for its money.
AWAITING_PAYMENT = frozenset({S.BILLET_PRINTED, S.DELAYED})


def rules_from(status: str, payment_type: str) -> list[Rule]:
    """The moves possible from ``status`` for this payment type, in the table's order."""
    return [rule for rule in TRANSITIONS if rule.source == status and payment_type in rule.payments]


def rule_for(status: str, target: str, payment_type: str) -> Rule | None:
    return next((rule for rule in rules_from(status, payment_type) if rule.target == target), None)


def status_parse(text: str) -> str | None:
    """A target status from what a person types: ``refunded``, ``REFUNDED``, ``refund``, ``PURCHASE_REFUNDED``,
    ``PURCHASE_PROTEST``, ``complete`` ... None when it names no status."""
    word = (text or "").strip().upper().replace("-", "_").replace(" ", "_")
    if word in PurchaseStatus.values:
        return word
    if word in STATUS_FOR_EVENT:
        return STATUS_FOR_EVENT[word]
    for status, verb in VERB_FOR_STATUS.items():
        if word == verb.upper().replace(" ", "_"):
            return status
    aliases = {"COMPLETE": S.COMPLETED, "PROTEST": S.DISPUTE, "CANCELLED": S.CANCELED, "PAY": S.APPROVED}
    return aliases.get(word)


# How a subscription follows its purchases: status reached by a recurrence -> the subscription's status.
SUBSCRIPTION_AFTER: dict[str, str] = {
    S.APPROVED: SubscriptionStatus.ACTIVE,
    S.DELAYED: SubscriptionStatus.DELAYED,
    S.CANCELED: SubscriptionStatus.INACTIVE,
    S.EXPIRED: SubscriptionStatus.INACTIVE,
    S.REFUNDED: SubscriptionStatus.INACTIVE,
    S.CHARGEBACK: SubscriptionStatus.INACTIVE,
}
# Subscriptions whose purchases still move them; cancelled or inactive ones stay as they are.
SUBSCRIPTION_LIVE = frozenset({SubscriptionStatus.STARTED, SubscriptionStatus.ACTIVE, SubscriptionStatus.DELAYED})
CANCELLED_BY = {
    "customer": SubscriptionStatus.CANCELLED_BY_CUSTOMER,
    "seller": SubscriptionStatus.CANCELLED_BY_SELLER,
    "admin": SubscriptionStatus.CANCELLED_BY_ADMIN,
}


def subscription_status_after(purchase_status: str, subscription_status: str) -> str:
    """The subscription's status once one of its purchases reached ``purchase_status``."""
    if subscription_status not in SUBSCRIPTION_LIVE:
        return subscription_status
    return SUBSCRIPTION_AFTER.get(purchase_status, subscription_status)
