"""Fixtures of the simulator's tests: a producer with a single-purchase and a subscription product, a
configuration listening to every event, and a way to bring a transaction to any status by legal moves."""

from __future__ import annotations

from collections import deque

import pytest

from catalogue.events import EventType
from configurations.services import configuration_create
from sales import lifecycle
from sales.lifecycle import PaymentType, PurchaseStatus
from sales.services import subscription_renew, transaction_create, transaction_transition
from tests.factories import ProductFactory


@pytest.fixture
def course(producer):
    return ProductFactory(owner=producer, name="Curso", price="197.00", warranty_days=7)


@pytest.fixture
def club(producer):
    return ProductFactory(owner=producer, name="Clube", price="49.90", is_subscription=True)


@pytest.fixture
def listener(producer):
    """A configuration of the producer that wants every event."""
    return configuration_create(owner=producer, name="all", events=EventType.values, url="http://127.0.0.1:9/hook")


def path_to(status: str, payment: str) -> list[str] | None:
    """The shortest chain of legal moves from a new purchase to ``status``; None if none reaches it."""
    starts = lifecycle.STARTS[(payment, False)]
    queue = deque([[start] for start in starts])
    while queue:
        chain = queue.popleft()
        if chain[-1] == status:
            return chain
        for rule in lifecycle.rules_from(chain[-1], payment):
            if rule.target not in chain:
                queue.append([*chain, rule.target])
    return None


def reach(owner, product, club, status: str, payment: str):
    """A transaction of ``owner`` brought to ``status`` by legal moves only (a card DELAYED is a refused
    subscription renewal, the only way a card purchase gets there)."""
    if status == PurchaseStatus.DELAYED and payment == PaymentType.CREDIT_CARD:
        first = transaction_create(owner=owner, product=club, payment_type=payment)
        return subscription_renew(
            owner=owner, subscriber_code=first.subscription.subscriber_code, refused=True
        ).purchase
    chain = path_to(status, payment)
    assert chain is not None, f"{status} cannot be reached by {payment}"
    outcome = transaction_create(
        owner=owner, product=product, payment_type=payment, refused=chain[0] == PurchaseStatus.CANCELED
    )
    for target in chain[1:]:
        outcome = transaction_transition(owner=owner, transaction=outcome.purchase.transaction, to=target)
    return outcome.purchase


def reachable() -> list[tuple[str, str]]:
    pairs = [(s, p) for p in PaymentType.values for s in PurchaseStatus.values if path_to(s, p) is not None]
    pairs.append((PurchaseStatus.DELAYED, PaymentType.CREDIT_CARD))
    return pairs
