"""The simulator's actions: create a transaction and move it through its lifecycle, renew, cancel and change
subscriptions, abandon carts, enter the members area. The only code that writes purchases and subscriptions.

Every action is one function the dashboard's simulator, the command line, scenarios and the API call alike.
Each saves the sale facts and reports the event through ``history.publishing.event_publish`` in one database
transaction, and answers a ``SaleOutcome``: the events recorded with the notifications they created. Bad input
raises a ``ValidationError`` naming the field, and nothing is saved.

Time (docs/lifecycle.md, "Time"): every action happens at a moment (``at``, default now) that is never before
the sale's previous event (its story's clock, ``last_event_at``), and its webhooks are never sent before that
moment (``history.publishing.event_publish`` schedules an event dated later). A move that would really happen
later (completing at the warranty's end, a billet overdue at its due date, a renewal on its charge date) is made
now by default, so a sale walks its whole life in minutes: dated now and sent now, the sale's own dates
unchanged. ``schedule=True`` dates it at that real moment instead, and it is sent then.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction as db_transaction
from django.utils import timezone

from catalogue.events import EventType
from catalogue.facts import (
    REFUSAL_REASONS,
    add_months,
    billet_due,
    billet_for,
    buyer_make,
    full_price_for,
    pix_expiry,
    pix_for,
    plan_find,
    plans_for,
    subscriber_code,
    transaction_code,
    warranty_end,
)
from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from configurations.models import Account, Product
from history.models import Event, Notification
from history.publishing import RecordedEvent, event_publish
from sales import lifecycle
from sales.facts import (
    COUPON_DISCOUNT,
    cart_facts,
    member_facts,
    modules_for,
    offer_code_for,
    purchase_facts,
    subscription_event_facts,
)
from sales.lifecycle import (
    ACCESS,
    AWAITING_PAYMENT,
    CANCELLED_BY,
    PAYMENT_DUE,
    SUBSCRIPTION_LIVE,
    WARRANTY_END,
    PaymentType,
    PurchaseStatus,
    SubscriptionStatus,
)
from sales.models import Purchase, Subscription

MAX_INSTALLMENTS = 12
# The moments a story may happen at (``at``).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

_PAYMENT_WORDS = {
    "CARD": PaymentType.CREDIT_CARD,
    "CREDIT_CARD": PaymentType.CREDIT_CARD,
    "CREDITCARD": PaymentType.CREDIT_CARD,
    "BILLET": PaymentType.BILLET,
    "BOLETO": PaymentType.BILLET,
    "PIX": PaymentType.PIX,
}


@dataclass(frozen=True)
class SaleOutcome:
    """What one action recorded: its events, each with the notifications it created, and the sale facts
    (transaction, subscription) as they stand after it."""

    events: list[RecordedEvent]
    purchase: Purchase | None = None
    subscription: Subscription | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Every way of showing an outcome (page, CLI, API) says when a webhook waits for its moment.
        for recorded in self.events:
            event = recorded.event
            if is_scheduled(event):
                self.notes.append(
                    f"{event.event_type} is scheduled: dated {_iso(event.occurred_at)} and sent then, never "
                    "before; a Pending post until then"
                )

    @property
    def event(self) -> Event:
        return self.events[-1].event

    @property
    def notifications(self) -> list[Notification]:
        return [notification for recorded in self.events for notification in recorded.notifications]


def is_scheduled(event: Event) -> bool:
    """Whether the event was recorded ahead of its moment: its webhooks wait until then."""
    return event.occurred_at > event.created_at


# --- Transactions ------------------------------------------------------------------------------------------


def payment_type_parse(text: str | None) -> str | None:
    """``card``, ``credit_card``, ``billet``, ``boleto``, ``pix`` (any case) -> a PaymentType; None if unknown."""
    return _PAYMENT_WORDS.get((text or "").strip().upper().replace("-", "_").replace(" ", "_"))


def transaction_create(
    *,
    owner: AbstractBaseUser,
    product: Product | None = None,
    payment_type: str = PaymentType.CREDIT_CARD,
    refused: bool = False,
    buyer_email: str | None = None,
    buyer_name: str | None = None,
    installments: int | None = None,
    affiliate_code: str | None = None,
    coupon_code: str = "",
    src: str = "",
    sck: str = "",
    xcod: str = "",
    plan: str | None = None,
    at: datetime | None = None,
) -> SaleOutcome:
    """A buyer checks out: a new transaction (and, for a subscription product, a new subscription).

    A card purchase starts APPROVED (PURCHASE_APPROVED), or CANCELED when ``refused`` (PURCHASE_CANCELED, with a
    refusal reason); a billet or PIX purchase starts BILLET_PRINTED (PURCHASE_BILLET_PRINTED) with its billet
    link and code or PIX code. Through an affiliate's hotlink (``affiliate_code``) the sale names the affiliate
    and notifies its configurations too. ``src``, ``sck`` and ``xcod`` are the checkout link's tracking codes;
    a ``coupon_code`` takes 10% off. ``plan`` (subscription products): monthly, quarterly or yearly.
    """
    errors: dict[str, str] = {}
    product = _owned_product(owner=owner, product=product, errors=errors)
    kind = payment_type_parse(payment_type)
    if kind is None:
        errors["payment_type"] = f"Unknown payment type {payment_type!r}; choose credit_card, billet or pix."
    elif refused and kind != PaymentType.CREDIT_CARD:
        errors["refused"] = "Only a card payment is refused at checkout; a billet or PIX is simply never paid."
    if installments is not None:
        if isinstance(installments, bool) or not isinstance(installments, int):
            errors["installments"] = f"A whole number of installments, 1 to {MAX_INSTALLMENTS}; got {installments!r}."
        elif kind in (PaymentType.BILLET, PaymentType.PIX) and installments != 1:
            errors["installments"] = "A billet or PIX is paid at once: 1 installment."
        elif not 1 <= installments <= MAX_INSTALLMENTS:
            errors["installments"] = f"Installments go from 1 to {MAX_INSTALLMENTS}."
    _check_buyer(buyer_email=buyer_email, buyer_name=buyer_name, errors=errors)
    for name, value, limit in (
        ("coupon_code", coupon_code, 50),
        ("src", src, 255),
        ("sck", sck, 255),
        ("xcod", xcod, 255),
    ):
        if value and len(value) > limit:
            errors[name] = f"At most {limit} characters."
    affiliation = None
    if affiliate_code and product is not None:
        affiliation = configuration_selectors.affiliation_get(affiliate_code=affiliate_code, product_id=product.pk)
        if affiliation is None:
            errors["affiliate_code"] = (
                f"No affiliate {affiliate_code!r} sells product {product.hotmart_id}; add the affiliation first."
            )
    chosen_plan = None
    if product is not None:
        if product.is_subscription:
            chosen_plan = plan_find(product, plan)
            if chosen_plan is None:
                keys = ", ".join(p["key"] for p in plans_for(product))
                errors["plan"] = f"Unknown plan {plan!r} of product {product.hotmart_id}; choose {keys}."
        elif plan:
            errors["plan"] = f"Product {product.hotmart_id} is not sold by subscription: it has no plans."
    at = _moment_or_error(at, errors=errors)
    if errors:
        raise ValidationError(errors)

    rng = random.Random()
    account = _account(owner)
    price = Decimal(chosen_plan["price"] if chosen_plan else product.price)
    coupon_code = (coupon_code or "").strip()
    if coupon_code:
        price = (price * (1 - COUPON_DISCOUNT)).quantize(Decimal("0.01"))
    count = installments or 1
    affiliate = affiliation.affiliate if affiliation else None
    percent = affiliation.commission_percent if affiliation else None
    status = PurchaseStatus.CANCELED if refused else lifecycle.STARTS[(kind, False)][0]
    with db_transaction.atomic():
        subscription = None
        if chosen_plan is not None:
            subscription = Subscription.objects.create(
                owner=owner,
                product=product,
                subscriber_code=_unique(lambda: subscriber_code(rng), Subscription, "subscriber_code"),
                hotmart_id=_unique(lambda: rng.randint(1_000_000, 9_999_999), Subscription, "hotmart_id"),
                status=SubscriptionStatus.STARTED,
                plan_key=chosen_plan["key"],
                payment_type=kind,
                charge_day=at.day,
                date_next_charge=add_months(at, chosen_plan["months"], day=at.day),
                buyer=buyer_make(rng, email=buyer_email, name=buyer_name),
                affiliate=affiliate,
                affiliate_percent=percent,
                last_event_at=at,
            )
        purchase = Purchase(
            owner=owner,
            product=product,
            transaction=_unique(lambda: transaction_code(rng), Purchase, "transaction"),
            status=status,
            payment_type=kind,
            installments=count,
            buyer=subscription.buyer if subscription else buyer_make(rng, email=buyer_email, name=buyer_name),
            price=price,
            full_price=full_price_for(price, count),
            currency=product.currency,
            offer_code=chosen_plan["offer_code"] if chosen_plan else offer_code_for(product),
            coupon_code=coupon_code,
            origin={"src": src, "sck": sck, "xcod": xcod} if (src or sck or xcod) else {},
            affiliate=affiliate,
            affiliate_percent=percent,
            subscription=subscription,
            recurrence_number=1 if subscription else None,
            refusal_reason=rng.choice(REFUSAL_REASONS) if refused else "",
            ordered_at=at - timedelta(seconds=rng.randint(5, 40)),
            last_event_at=at,
        )
        _issue_payment(purchase, rng=rng, at=at, merchant=account.producer_name)
        if status == PurchaseStatus.APPROVED:
            _approve(purchase, at)
        purchase.save()
        if subscription is not None:
            subscription.status = lifecycle.subscription_status_after(status, subscription.status)
            subscription.save(update_fields=["status", "updated_at"])
        recorded = _publish_purchase(owner=owner, purchase=purchase, account=account, at=at)
    return SaleOutcome(events=[recorded], purchase=purchase, subscription=subscription)


def transaction_transition(
    *, owner: AbstractBaseUser, transaction: str, to: str, at: datetime | None = None, schedule: bool = False
) -> SaleOutcome:
    """Move a transaction to the status ``to`` (``refunded``, ``REFUNDED``, ``refund`` or ``PURCHASE_REFUNDED``)
    and emit that status's event; only the moves of ``sales.lifecycle.TRANSITIONS`` are legal.

    An illegal move raises a ValidationError on ``to`` naming the moves that are allowed from here. A move that
    really waits for a moment (completing at the warranty's end, a billet overdue at its due date) happens now
    (a fast-forward, said in the outcome's notes), or at that moment with ``schedule``: then it is dated then
    and sent then. An explicit ``at`` is checked against the story: before that moment it is refused on ``at``.
    """
    errors: dict[str, str] = {}
    at_given = _moment_given(at, errors=errors)
    _check_schedule(schedule, at, errors=errors)
    target = lifecycle.status_parse(to)
    if target is None:
        errors["to"] = f"Unknown status {to!r}; choose one of {', '.join(PurchaseStatus.values)}."
    if errors:
        raise ValidationError(errors)
    with db_transaction.atomic():
        purchase = _purchase_for_update(owner=owner, code=transaction)
        rule = lifecycle.rule_for(purchase.status, target, purchase.payment_type)
        if rule is None:
            raise ValidationError(
                {"to": ValidationError(_illegal_message(purchase, target), code="illegal_transition")}
            )
        moment = _transition_moment(purchase, rule, at_given, schedule=schedule)
        real = _deadline(purchase, rule.not_before)
        notes = [_early_note(rule.event, _REAL_MOMENT[rule.not_before], real)] if real and moment < real else []
        previous = purchase.status
        purchase.status = target
        purchase.last_event_at = moment
        if target == PurchaseStatus.APPROVED:
            purchase.refusal_reason = ""  # a charge that is paid at last is no longer refused
            if purchase.approved_at is None:
                _approve(purchase, moment)
        if target == PurchaseStatus.CANCELED and previous == PurchaseStatus.DELAYED:
            purchase.refusal_reason = "Payment not recovered after retries"
        purchase.save()
        subscription = purchase.subscription
        if subscription is not None:
            subscription.status = lifecycle.subscription_status_after(target, subscription.status)
            subscription.last_event_at = max(subscription.last_event_at, moment)
            subscription.save(update_fields=["status", "last_event_at", "updated_at"])
        recorded = _publish_purchase(owner=owner, purchase=purchase, account=_account(owner), at=moment)
    return SaleOutcome(events=[recorded], purchase=purchase, subscription=subscription, notes=notes)


# --- Subscriptions -----------------------------------------------------------------------------------------


def subscription_renew(
    *,
    owner: AbstractBaseUser,
    subscriber_code: str,
    refused: bool = False,
    at: datetime | None = None,
    schedule: bool = False,
) -> SaleOutcome:
    """Charge the next recurrence: a new transaction with the next ``recurrence_number``.

    By card it is APPROVED (PURCHASE_APPROVED), or DELAYED when ``refused`` (PURCHASE_DELAYED, the subscription
    becomes DELAYED); by billet or PIX it is BILLET_PRINTED. The subscription must be ACTIVE with no charge
    still awaiting payment. The charge is made when asked (default now): the simulator does not wait a month.
    With ``schedule`` it is made on its charge date (``date_next_charge``) instead, and sent then.
    """
    errors: dict[str, str] = {}
    at_given = _moment_given(at, errors=errors)
    _check_schedule(schedule, at, errors=errors)
    if errors:
        raise ValidationError(errors)
    with db_transaction.atomic():
        subscription = _subscription_for_update(owner=owner, code=subscriber_code)
        if subscription.status != SubscriptionStatus.ACTIVE:
            raise ValidationError(
                {
                    "subscription": f"Subscription {subscription.subscriber_code} is {subscription.status}: "
                    "only an ACTIVE subscription is renewed."
                }
            )
        latest = subscription.purchases.order_by("-recurrence_number").first()
        if latest is not None and latest.status in AWAITING_PAYMENT:
            raise ValidationError(
                {
                    "subscription": f"Charge {latest.recurrence_number} ({latest.transaction}) is still "
                    f"{latest.status}; settle it before the next one."
                }
            )
        if refused and subscription.payment_type != PaymentType.CREDIT_CARD:
            raise ValidationError({"refused": "Only a card charge is refused; a billet or PIX is simply not paid."})
        moment = _after(at_given, subscription.last_event_at, latest.last_event_at if latest else None)
        charge_date = subscription.date_next_charge
        if schedule:
            moment = max(moment, charge_date)
        notes = [_early_note("the renewal", "its charge date", charge_date)] if moment < charge_date else []
        rng = random.Random()
        account = _account(owner)
        plan = plan_find(subscription.product, subscription.plan_key)
        price = Decimal(plan["price"])
        status = PurchaseStatus.DELAYED if refused else lifecycle.STARTS[(subscription.payment_type, True)][0]
        subscription.recurrence_number += 1
        subscription.date_next_charge = add_months(
            subscription.date_next_charge, plan["months"], day=subscription.charge_day
        )
        subscription.status = lifecycle.subscription_status_after(status, subscription.status)
        subscription.last_event_at = moment
        subscription.save()
        purchase = Purchase(
            owner=owner,
            product=subscription.product,
            transaction=_unique(lambda: transaction_code(rng), Purchase, "transaction"),
            status=status,
            payment_type=subscription.payment_type,
            installments=1,
            buyer=subscription.buyer,
            price=price,
            full_price=price,
            currency=subscription.product.currency,
            offer_code=plan["offer_code"],
            affiliate=subscription.affiliate,
            affiliate_percent=subscription.affiliate_percent,
            subscription=subscription,
            recurrence_number=subscription.recurrence_number,
            refusal_reason=rng.choice(REFUSAL_REASONS) if refused else "",
            ordered_at=moment,
            last_event_at=moment,
        )
        _issue_payment(purchase, rng=rng, at=moment, merchant=account.producer_name)
        if status == PurchaseStatus.APPROVED:
            _approve(purchase, moment)
        purchase.save()
        recorded = _publish_purchase(owner=owner, purchase=purchase, account=account, at=moment)
    return SaleOutcome(events=[recorded], purchase=purchase, subscription=subscription, notes=notes)


def subscription_cancel(
    *, owner: AbstractBaseUser, subscriber_code: str, by: str = "customer", at: datetime | None = None
) -> SaleOutcome:
    """Cancel a subscription (by the ``customer``, the ``seller`` or Hotmart's ``admin``): SUBSCRIPTION_CANCELLATION."""
    errors: dict[str, str] = {}
    at_given = _moment_given(at, errors=errors)
    new_status = CANCELLED_BY.get((by or "").strip().lower())
    if new_status is None:
        errors["by"] = f"Unknown canceller {by!r}; choose customer, seller or admin."
    if errors:
        raise ValidationError(errors)
    with db_transaction.atomic():
        subscription = _subscription_for_update(owner=owner, code=subscriber_code)
        if subscription.status not in SUBSCRIPTION_LIVE:
            raise ValidationError(
                {"subscription": f"Subscription {subscription.subscriber_code} is already {subscription.status}."}
            )
        moment = _after(at_given, subscription.last_event_at)
        subscription.status = new_status
        subscription.cancelled_at = moment
        return _subscription_event(
            owner=owner, subscription=subscription, event_type=EventType.SUBSCRIPTION_CANCELLATION, moment=moment
        )


def subscription_switch_plan(
    *, owner: AbstractBaseUser, subscriber_code: str, plan: str, at: datetime | None = None
) -> SaleOutcome:
    """Move an ACTIVE subscription to another plan of its product (monthly, quarterly, yearly): SWITCH_PLAN.
    The new plan's price applies from the next charge."""
    at_given = _at_checked(at)
    with db_transaction.atomic():
        subscription = _subscription_for_update(owner=owner, code=subscriber_code)
        wanted = plan_find(subscription.product, plan) if plan else None
        if wanted is None:
            keys = ", ".join(p["key"] for p in plans_for(subscription.product))
            raise ValidationError({"plan": f"Unknown plan {plan!r}; choose {keys}."})
        if wanted["key"] == subscription.plan_key:
            raise ValidationError(
                {"plan": f"Subscription {subscription.subscriber_code} is already on {wanted['key']}."}
            )
        _require_active(subscription, "change plans")
        moment = _after(at_given, subscription.last_event_at)
        subscription.previous_plan_key = subscription.plan_key
        subscription.plan_key = wanted["key"]
        subscription.plan_switched_at = moment
        return _subscription_event(
            owner=owner, subscription=subscription, event_type=EventType.SWITCH_PLAN, moment=moment
        )


def subscription_change_charge_day(
    *, owner: AbstractBaseUser, subscriber_code: str, day: int, at: datetime | None = None
) -> SaleOutcome:
    """Charge an ACTIVE subscription on another day of the month (1 to 31, clamped to short months):
    UPDATE_SUBSCRIPTION_CHARGE_DATE, with the old and new day and the next charge date."""
    errors: dict[str, str] = {}
    at_given = _moment_given(at, errors=errors)
    if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 31:
        errors["day"] = f"The charge day is a day of the month, 1 to 31; got {day!r}."
    if errors:
        raise ValidationError(errors)
    with db_transaction.atomic():
        subscription = _subscription_for_update(owner=owner, code=subscriber_code)
        if day == subscription.charge_day:
            raise ValidationError(
                {"day": f"Subscription {subscription.subscriber_code} is already charged on day {day}."}
            )
        _require_active(subscription, "change its charge day")
        moment = _after(at_given, subscription.last_event_at)
        old_day = subscription.charge_day
        next_charge = add_months(subscription.date_next_charge, 0, day=day)
        if next_charge <= moment:
            next_charge = add_months(next_charge, 1, day=day)
        subscription.charge_day = day
        subscription.date_next_charge = next_charge
        return _subscription_event(
            owner=owner,
            subscription=subscription,
            event_type=EventType.UPDATE_SUBSCRIPTION_CHARGE_DATE,
            moment=moment,
            old_charge_day=old_day,
            new_charge_day=day,
        )


# --- Cart and members area ---------------------------------------------------------------------------------


def cart_abandon(
    *,
    owner: AbstractBaseUser,
    product: Product | None = None,
    buyer_email: str | None = None,
    buyer_name: str | None = None,
    buyer_phone: str | None = None,
    affiliate_code: str | None = None,
    at: datetime | None = None,
) -> SaleOutcome:
    """A visitor filled in the checkout and left without paying: PURCHASE_OUT_OF_SHOPPING_CART (to the
    affiliate's configurations too when the visit came through its hotlink). No transaction is created."""
    errors: dict[str, str] = {}
    product = _owned_product(owner=owner, product=product, errors=errors)
    _check_buyer(buyer_email=buyer_email, buyer_name=buyer_name, errors=errors)
    if buyer_phone and (not (buyer_phone.isascii() and buyer_phone.isdigit()) or len(buyer_phone) > 20):
        errors["buyer_phone"] = "The phone is digits only, at most 20."
    affiliation = None
    if affiliate_code and product is not None:
        affiliation = configuration_selectors.affiliation_get(affiliate_code=affiliate_code, product_id=product.pk)
        if affiliation is None:
            errors["affiliate_code"] = f"No affiliate {affiliate_code!r} sells product {product.hotmart_id}."
    moment = _moment_or_error(at, errors=errors)
    if errors:
        raise ValidationError(errors)
    buyer = buyer_make(random.Random(), email=buyer_email, name=buyer_name, phone=buyer_phone)
    account = _account(owner)
    facts = cart_facts(
        product,
        producer=account,
        buyer=buyer,
        affiliate_user=affiliation.affiliate if affiliation else None,
        occurred_at=moment,
    )
    with db_transaction.atomic():
        recorded = event_publish(
            owner=owner,
            event_type=EventType.PURCHASE_OUT_OF_SHOPPING_CART,
            product=product,
            facts=facts,
            occurred_at=moment,
        )
    return SaleOutcome(events=[recorded])


def member_first_access(*, owner: AbstractBaseUser, transaction: str, at: datetime | None = None) -> SaleOutcome:
    """The buyer of an approved (or completed) transaction enters the members area for the first time:
    CLUB_FIRST_ACCESS. It happens once per transaction."""
    at_given = _at_checked(at)
    with db_transaction.atomic():
        purchase = _purchase_for_update(owner=owner, code=transaction)
        _require_access(purchase)
        if purchase.first_access_at is not None:
            raise ValidationError(
                {
                    "transaction": f"The buyer of {purchase.transaction} already entered the members area at "
                    f"{purchase.first_access_at.isoformat()}."
                }
            )
        moment = _after(at_given, purchase.last_event_at)
        purchase.first_access_at = moment
        purchase.last_event_at = moment
        purchase.save(update_fields=["first_access_at", "last_event_at", "updated_at"])
        recorded = _publish_member(
            owner=owner, purchase=purchase, event_type=EventType.CLUB_FIRST_ACCESS, at=moment, module=None
        )
    return SaleOutcome(events=[recorded], purchase=purchase)


def member_module_complete(
    *, owner: AbstractBaseUser, transaction: str, module: str | None = None, at: datetime | None = None
) -> SaleOutcome:
    """The buyer completes a module of the members area (by id, name or number; default: the next one not yet
    completed): CLUB_MODULE_COMPLETED. The buyer must have entered the area first."""
    at_given = _at_checked(at)
    with db_transaction.atomic():
        purchase = _purchase_for_update(owner=owner, code=transaction)
        _require_access(purchase)
        if purchase.first_access_at is None:
            raise ValidationError(
                {
                    "transaction": f"The buyer of {purchase.transaction} has not entered the members area yet; "
                    "record the first access first."
                }
            )
        modules = modules_for(purchase.product)
        done = set(purchase.modules_completed)
        chosen = _module_pick(modules, module, done)
        moment = _after(at_given, purchase.last_event_at)
        purchase.modules_completed = [*purchase.modules_completed, chosen["id"]]
        purchase.last_event_at = moment
        purchase.save(update_fields=["modules_completed", "last_event_at", "updated_at"])
        recorded = _publish_member(
            owner=owner, purchase=purchase, event_type=EventType.CLUB_MODULE_COMPLETED, at=moment, module=chosen
        )
    return SaleOutcome(events=[recorded], purchase=purchase)


# --- Helpers -----------------------------------------------------------------------------------------------


def _account(owner: AbstractBaseUser) -> Account:
    account, _ = configuration_services.account_get_or_create(user=owner)
    return account


def _owned_product(*, owner: AbstractBaseUser, product: Product | None, errors: dict[str, str]) -> Product | None:
    if product is None:
        product = configuration_selectors.product_list(owner_id=owner.pk).first()
        if product is None:
            errors["product"] = f"{owner} has no product; create one first."
    elif product.owner_id != owner.pk:
        errors["product"] = f"Product {product.hotmart_id} does not belong to {owner}."
        return None
    return product


def _check_buyer(*, buyer_email: str | None, buyer_name: str | None, errors: dict[str, str]) -> None:
    if buyer_email:
        try:
            validate_email(buyer_email)
        except ValidationError:
            errors["buyer_email"] = f"{buyer_email!r} is not a valid e-mail address."
    if buyer_name is not None and len(buyer_name) > 255:
        errors["buyer_name"] = "At most 255 characters."


def _moment_or_error(at: datetime | None, *, errors: dict[str, str]) -> datetime:
    if at is None:
        return timezone.now()
    if not isinstance(at, datetime) or timezone.is_naive(at):
        errors["at"] = "Give a moment with its time zone, e.g. 2026-11-28T10:00:00Z."
        return timezone.now()
    if not EARLIEST <= at < LATEST:
        # Due dates, warranties and charges are counted from it: keep them within the calendar.
        errors["at"] = f"Give a moment from {EARLIEST.year} to {LATEST.year - 1}; got {at.isoformat()}."
        return timezone.now()
    return at


def _moment_given(at: datetime | None, *, errors: dict[str, str]) -> datetime | None:
    """``at`` checked; None stays None (the action then picks its moment)."""
    return None if at is None else _moment_or_error(at, errors=errors)


def _at_checked(at: datetime | None) -> datetime | None:
    errors: dict[str, str] = {}
    checked = _moment_given(at, errors=errors)
    if errors:
        raise ValidationError(errors)
    return checked


def _after(at: datetime | None, *moments: datetime | None) -> datetime:
    """``at`` (default now), refused when it is before the story's latest moment."""
    latest = max((m for m in moments if m is not None), default=None)
    if at is None:
        now = timezone.now()
        return max(now, latest) if latest else now
    if latest is not None and at < latest:
        raise ValidationError(
            {"at": f"This happens after the previous event, at {_iso(latest)}; {_iso(at)} is earlier."}
        )
    return at


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unique(make: Callable[[], Any], model, field_name: str):
    for _ in range(50):
        value = make()
        if not model.objects.filter(**{field_name: value}).exists():
            return value
    raise RuntimeError(f"could not find a free {field_name}")


def _purchase_for_update(*, owner: AbstractBaseUser, code: str) -> Purchase:
    code = (code or "").strip().upper()
    purchase = (
        Purchase.objects.select_for_update(of=("self",))
        .select_related("product", "subscription", "affiliate")
        .filter(owner=owner, transaction=code)
        .first()
    )
    if purchase is None:
        raise ValidationError({"transaction": f"No transaction {code or '(empty)'} of yours."})
    return purchase


def _subscription_for_update(*, owner: AbstractBaseUser, code: str) -> Subscription:
    code = (code or "").strip().upper()
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("product", "affiliate")
        .filter(owner=owner, subscriber_code=code)
        .first()
    )
    if subscription is None:
        raise ValidationError({"subscription": f"No subscription {code or '(empty)'} of yours."})
    return subscription


def _require_active(subscription: Subscription, action: str) -> None:
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise ValidationError(
            {
                "subscription": f"Subscription {subscription.subscriber_code} is {subscription.status}: "
                f"only an ACTIVE subscription can {action}."
            }
        )


def _require_access(purchase: Purchase) -> None:
    if purchase.status not in ACCESS:
        raise ValidationError(
            {
                "transaction": f"Transaction {purchase.transaction} is {purchase.status}: its buyer has no access to "
                "the members area (it opens when the purchase is approved)."
            }
        )


def _module_pick(modules: list[dict[str, str]], wanted: str | None, done: set[str]) -> dict[str, str]:
    if wanted in (None, ""):
        for candidate in modules:
            if candidate["id"] not in done:
                return candidate
        raise ValidationError({"module": "Every module of this product is already completed."})
    text = str(wanted).strip().lower()
    for number, candidate in enumerate(modules, start=1):
        if text in (candidate["id"], candidate["name"].lower(), str(number)):
            if candidate["id"] in done:
                raise ValidationError({"module": f"{candidate['name']} is already completed."})
            return candidate
    names = "; ".join(f"{n}. {m['name']}" for n, m in enumerate(modules, start=1))
    raise ValidationError({"module": f"Unknown module {wanted!r}; the modules are: {names}."})


def _issue_payment(purchase: Purchase, *, rng: random.Random, at: datetime, merchant: str) -> None:
    """Fill the billet or PIX fields of a purchase waiting for payment, with its due date."""
    if purchase.payment_type == PaymentType.BILLET:
        due = billet_due(at)
        purchase.payment_due_at = due
        purchase.billet = billet_for(rng, transaction=purchase.transaction, amount=purchase.full_price, due=due)
    elif purchase.payment_type == PaymentType.PIX:
        expires = pix_expiry(at)
        purchase.payment_due_at = expires
        purchase.pix = pix_for(
            transaction=purchase.transaction, amount=purchase.full_price, merchant=merchant, expires=expires
        )


def _approve(purchase: Purchase, moment: datetime) -> None:
    purchase.approved_at = moment
    purchase.warranty_until = warranty_end(purchase.product, moment)


def _deadline(purchase: Purchase, moment_name: str | None) -> datetime | None:
    if moment_name == WARRANTY_END:
        return purchase.warranty_until
    if moment_name == PAYMENT_DUE:
        return purchase.payment_due_at
    return None


_MOMENT_LABEL = {WARRANTY_END: "the warranty ends", PAYMENT_DUE: "the payment is due"}


def _transition_moment(
    purchase: Purchase, rule: lifecycle.Rule, at: datetime | None, *, schedule: bool = False
) -> datetime:
    """When the move happens: ``at`` checked against the story and the rule's moments; else now (or the story's
    latest moment), or with ``schedule`` the rule's real moment when it is still ahead."""
    earliest = _deadline(purchase, rule.not_before)
    latest = _deadline(purchase, rule.until)
    if at is None:
        moment = max(timezone.now(), purchase.last_event_at)
        if schedule and earliest is not None:
            moment = max(moment, earliest)
    else:
        moment = at
        if moment < purchase.last_event_at:
            raise ValidationError(
                {
                    "at": f"{purchase.transaction}'s previous event was at {_iso(purchase.last_event_at)}; "
                    f"{_iso(moment)} is earlier."
                }
            )
        if earliest is not None and moment < earliest:
            raise ValidationError(
                {
                    "at": f"{rule.event} happens once {_MOMENT_LABEL[rule.not_before]}, at {_iso(earliest)}; "
                    f"{_iso(moment)} is earlier."
                }
            )
    if latest is not None and moment > latest:
        raise ValidationError(
            {
                "to" if at is None else "at": f"{rule.event} is possible until {_MOMENT_LABEL[rule.until]}, "
                f"at {_iso(latest)}; {_iso(moment)} is later."
            }
        )
    return moment


def _check_schedule(schedule: bool, at: datetime | None, *, errors: dict[str, str]) -> None:
    if schedule and at is not None:
        errors["schedule"] = "Give a moment (at) or ask to schedule it at its real moment, not both."


_REAL_MOMENT = {WARRANTY_END: "the warranty's end", PAYMENT_DUE: "the payment's due date"}


def _early_note(what: str, moment_label: str, real: datetime) -> str:
    """What a fast-forwarded move tells its caller: when it would really have happened, and how to wait."""
    return (
        f"{what} made before its real moment ({moment_label}, {_iso(real)}), the sale's own dates unchanged; "
        "schedule it to have it dated and sent then"
    )


def _illegal_message(purchase: Purchase, target: str) -> str:
    kind = PaymentType(purchase.payment_type).label.lower()
    head = f"Transaction {purchase.transaction} is {purchase.status} ({kind})"
    rules = lifecycle.rules_from(purchase.status, purchase.payment_type)
    if not rules:
        return f"{head}, a final status: it cannot become {target} or anything else."
    allowed = []
    for rule in rules:
        text = rule.target
        if rule.not_before:
            text += f" (really at {_iso(_deadline(purchase, rule.not_before))})"
        if rule.until:
            text += f" (until {_iso(_deadline(purchase, rule.until))})"
        allowed.append(text)
    return f"{head}: it cannot become {target}. Allowed: {', '.join(allowed)}."


def _publish_purchase(*, owner, purchase: Purchase, account: Account, at: datetime) -> RecordedEvent:
    return event_publish(
        owner=owner,
        event_type=lifecycle.EVENT_FOR_STATUS[purchase.status],
        product=purchase.product,
        facts=purchase_facts(purchase, producer=account),
        occurred_at=at,
    )


def _subscription_event(
    *, owner, subscription: Subscription, event_type: str, moment: datetime, **extra
) -> SaleOutcome:
    """Save a subscription changed by an event at ``moment`` and report that event (``extra``: moments of the
    event at hand, e.g. the old and new charge day)."""
    subscription.last_event_at = moment
    subscription.save()
    facts = subscription_event_facts(subscription, producer=_account(owner), **extra)
    recorded = event_publish(
        owner=owner, event_type=event_type, product=subscription.product, facts=facts, occurred_at=moment
    )
    return SaleOutcome(events=[recorded], subscription=subscription)


def _publish_member(*, owner, purchase: Purchase, event_type: str, at: datetime, module) -> RecordedEvent:
    return event_publish(
        owner=owner,
        event_type=event_type,
        product=purchase.product,
        facts=member_facts(purchase, producer=_account(owner), module=module),
        occurred_at=at,
        transaction_code=purchase.transaction,
    )
