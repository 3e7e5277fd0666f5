"""Simulated facts of a sale: the buyer, the purchase, the subscription, made up but realistic.

An event stores these facts; its payloads are built from them by the catalogue. They are written in our
own terms (``buyer.address.street``), the catalogue maps them to Hotmart's names (``buyer.address.address``).

The building blocks here (buyer, product, producer, commissions, plans, billet and PIX codes) serve both the
one-off sample events (``sale_facts``: ``simulate EVENT``, test posts) and the tracked sales of ``sales/``.
"""

from __future__ import annotations

import random
import string
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from faker import Faker

from catalogue import PURCHASE_STATUS
from catalogue.events import SUBSCRIPTION_EVENTS, EventType
from catalogue.plans import plan_find, plans_for  # noqa: F401 - sales reads them from here

REFUSAL_REASONS = ("Insufficient funds", "Card declined by the issuer", "Invalid card data")
MARKETPLACE_FEE_RATE = Decimal("0.099")  # Hotmart keeps 9.9% + 1.00 per sale
MARKETPLACE_FEE_FIXED = Decimal("1.00")
INSTALLMENT_INTEREST = Decimal("0.0299")  # monthly interest the buyer pays on card installments
CENT = Decimal("0.01")

_faker = Faker("pt_BR")


class Product(Protocol):
    """What the facts read of a product: a ``configurations.models.Product``, saved or not (the test product)."""

    hotmart_id: int
    ucode: uuid.UUID
    name: str
    price: Decimal
    currency: str
    is_subscription: bool
    is_physical: bool
    warranty_days: int
    support_email: str
    plans: list


class Account(Protocol):
    """What the facts read of a producer's webhook account (``configurations.models.Account``)."""

    producer_name: str
    document: str
    legal_nature: str
    affiliates_see_buyer_data: bool
    user: Any


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def iso_utc(moment: datetime, *, millis: bool = False) -> str:
    moment = moment.astimezone(UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _code(rng: random.Random, length: int, alphabet: str = string.ascii_uppercase + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def transaction_code(rng: random.Random | None = None) -> str:
    """A Hotmart-like transaction code: HP and 14 digits."""
    rng = rng or random.Random()
    return "HP" + "".join(rng.choice(string.digits) for _ in range(14))


def subscriber_code(rng: random.Random | None = None) -> str:
    """A Hotmart-like subscriber code: 8 capital letters and digits."""
    return _code(rng or random.Random(), 8)


def _ascii(text: str) -> str:
    """``Letícia Souza`` -> ``leticia.souza``: made-up e-mail addresses stay plain ASCII."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().replace(" ", "")


AREA_CODES = ("11", "21", "31", "34", "41", "51", "61", "71", "81", "85")


def phone_split(rng: random.Random, phone: str | None) -> tuple[str, str]:
    """(area code, number) of a Brazilian mobile: a given phone of 10 or 11 digits starts with its area code;
    a shorter one is the number alone, and the area code is made up, like a whole phone when none is given."""
    if phone and len(phone) in (10, 11):
        return phone[:2], phone[2:]
    return rng.choice(AREA_CODES), phone or "9" + _code(rng, 8, string.digits)


def buyer_make(
    rng: random.Random, *, email: str | None = None, name: str | None = None, phone: str | None = None
) -> dict[str, Any]:
    """A made-up Brazilian buyer; the name, e-mail and phone given are used as they are.

    The phone is kept as its area code (``phone_code``) and number (``phone``): payloads write it whole
    (``checkout_phone``, 11 digits as in Hotmart's sample) or split (``dddCell`` and ``cell``), the same
    number either way."""
    _faker.seed_instance(rng.random())
    first, last = _faker.first_name(), _faker.last_name()
    if name and name.strip():
        first, _, last = name.strip().partition(" ")
    digits = string.digits
    area, number = phone_split(rng, phone)
    full_name = f"{first} {last}".strip()
    return {
        "email": email or _ascii(f"{first}.{last}.{_code(rng, 4, digits)}@example.com".replace("..", ".")),
        "name": full_name,
        "first_name": first,
        "last_name": last,
        "phone_code": area,
        "phone": number,
        "landline_code": "",
        "landline": "",
        "ip": _faker.ipv4_public(),
        "document": _faker.cpf().replace(".", "").replace("-", ""),
        "document_type": "CPF",
        "address": {
            "city": _faker.city(),
            "country": "Brasil",
            "country_iso": "BR",
            "state": _faker.estado_nome(),
            "neighborhood": _faker.bairro(),
            "zipcode": _faker.postcode().replace("-", ""),
            "street": _faker.street_name(),
            "number": str(_faker.building_number()),
            "complement": rng.choice(["", "Apto 101", "Casa 2", "Bloco B"]),
        },
    }


def producer_facts(account: Account) -> dict[str, Any]:
    """The producer as payloads show it, and whether it shares buyer data with affiliates at this moment."""
    return {
        "name": account.producer_name or account.user.get_username(),
        "document": account.document,
        "legal_nature": account.legal_nature,
        "shares_buyer_data": account.affiliates_see_buyer_data,
    }


def warranty_end(product: Product, approved_at: datetime) -> datetime:
    """The end of the refund period: midnight UTC of the day ``warranty_days`` after the approval."""
    end = approved_at.astimezone(UTC) + timedelta(days=product.warranty_days)
    return end.replace(hour=0, minute=0, second=0, microsecond=0)


def product_facts(product: Product, account: Account, *, warranty_until: datetime) -> dict[str, Any]:
    return {
        "id": product.hotmart_id,
        "ucode": str(product.ucode),
        "name": product.name,
        "warranty_date": iso_utc(warranty_until),
        "support_email": product.support_email or account.user.email or "support@example.com",
        "has_co_production": False,
        "is_physical": product.is_physical,
        "content": [
            {
                "id": product.hotmart_id,
                "ucode": str(product.ucode),
                "name": product.name,
                "is_physical": product.is_physical,
            }
        ],
    }


def marketplace_fee(price: Decimal) -> Decimal:
    return (price * MARKETPLACE_FEE_RATE + MARKETPLACE_FEE_FIXED).quantize(CENT) if price else Decimal(0)


def commissions(price: Decimal, currency: str, *, affiliate_percent: Decimal | None = None) -> list[dict[str, Any]]:
    """How the price is split: Hotmart's fee, then the affiliate's percentage of the rest, then the producer's."""
    fee = marketplace_fee(price)
    shares = [{"value": str(fee), "source": "MARKETPLACE", "currency": currency}]
    affiliate = Decimal(0)
    if affiliate_percent:
        affiliate = ((price - fee) * affiliate_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    shares.append({"value": str(price - fee - affiliate), "source": "PRODUCER", "currency": currency})
    if affiliate_percent:
        shares.append({"value": str(affiliate), "source": "AFFILIATE", "currency": currency})
    return shares


def full_price_for(price: Decimal, installments: int) -> Decimal:
    """What the buyer pays in total: installments carry monthly interest (Price table), one payment none."""
    if installments <= 1 or not price:
        return price
    rate = INSTALLMENT_INTEREST
    installment = price * rate / (1 - (1 + rate) ** -installments)
    return (installment.quantize(CENT, rounding=ROUND_HALF_UP) * installments).quantize(CENT)


def add_months(moment: datetime, months: int, *, day: int | None = None) -> datetime:
    """``moment`` plus whole months, on ``day`` of the month (default: the same day), clamped to the month."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    wanted = day or moment.day
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(wanted, last))


# --- Billet and PIX ----------------------------------------------------------------------------------------

_BILLET_BASE = date(1997, 10, 7)


def _mod10(digits: str) -> int:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        product = int(digit) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _mod11(digits: str) -> int:
    total = sum(int(digit) * (2 + position % 8) for position, digit in enumerate(reversed(digits)))
    check = 11 - total % 11
    return 1 if check in (0, 10, 11) else check


def _due_factor(due: date) -> int:
    days = (due - _BILLET_BASE).days
    # The factor ran out at 9999 on 2025-02-21 and restarted at 1000.
    return days if days <= 9999 else (days - 10000) % 9000 + 1000


def billet_for(rng: random.Random, *, transaction: str, amount: Decimal, due: datetime) -> dict[str, str]:
    """A billet (boleto) as Hotmart sends it: its link and its typeable line, with valid check digits."""
    bank, currency = "033", "9"
    free = "".join(rng.choice(string.digits) for _ in range(25))
    value = f"{_due_factor(due.date()):04d}{int((amount * 100).to_integral_value()):010d}"
    general = _mod11(bank + currency + value + free)
    field1 = bank + currency + free[:5]
    field2, field3 = free[5:15], free[15:25]
    field1 += str(_mod10(field1))
    field2 += str(_mod10(field2))
    field3 += str(_mod10(field3))
    line = f"{field1[:5]}.{field1[5:]} {field2[:5]}.{field2[5:]} {field3[:5]}.{field3[5:]} {general} {value}"
    return {"url": f"https://billet.hotmart.example/{transaction}", "barcode": line}


def _crc16(payload: str) -> str:
    """CRC-16/CCITT-FALSE, as the PIX BR Code ends with."""
    crc = 0xFFFF
    for byte in payload.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = (crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _emv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def pix_for(*, transaction: str, amount: Decimal, merchant: str, expires: datetime) -> dict[str, Any]:
    """A PIX charge as Hotmart sends it: the copy-and-paste BR Code (with its CRC), a QR code link, expiry."""
    plain = unicodedata.normalize("NFKD", merchant or "")
    name = "".join(ch for ch in plain if ch.isascii() and (ch.isalnum() or ch == " ")).upper().strip()[:25] or "HOTMART"
    account = _emv("00", "br.gov.bcb.pix") + _emv("25", f"pix.hotmart.example/qr/v2/{transaction}")
    body = (
        _emv("00", "01")
        + _emv("26", account)
        + _emv("52", "0000")
        + _emv("53", "986")
        + _emv("54", f"{amount:.2f}")
        + _emv("58", "BR")
        + _emv("59", name)
        + _emv("60", "SAO PAULO")
        + _emv("62", _emv("05", transaction))
        + "6304"
    )
    return {
        "code": body + _crc16(body),
        "qrcode": f"https://pix.hotmart.example/qrcode/{transaction}",
        "expiration": epoch_ms(expires),
    }


# --- The purchase block ------------------------------------------------------------------------------------

CHECKOUT_COUNTRY = {"name": "Brasil", "iso": "BR"}
BILLET_DAYS = 3  # a billet can be paid until the end of the third day after the order
PIX_HOURS = 24  # a PIX code expires a day after it is issued


def billet_due(ordered_at: datetime) -> datetime:
    """A billet's due date: the end of the third day after the order (midnight UTC)."""
    due = ordered_at.astimezone(UTC) + timedelta(days=BILLET_DAYS + 1)
    return due.replace(hour=0, minute=0, second=0, microsecond=0)


def pix_expiry(issued_at: datetime) -> datetime:
    return issued_at + timedelta(hours=PIX_HOURS)


def purchase_block(
    *,
    transaction: str,
    status: str,
    ordered_at: datetime,
    approved_at: datetime | None,
    currency: str,
    price: Decimal,
    full_price: Decimal,
    original_price: Decimal,
    payment_type: str,
    installments: int,
    billet: dict | None = None,
    pix: dict | None = None,
    refusal_reason: str = "",
    offer_code: str,
    coupon_code: str = "",
    origin: dict | None = None,
    recurrence: dict | None = None,
) -> dict[str, Any]:
    """The ``purchase`` facts of a purchase event, for tracked sales (``sales.facts``) and one-off samples alike.

    ``recurrence`` (subscription charges): ``number``, and ``date_next_charge`` (epoch ms) while the subscription
    will be charged again, else None. What the catalogue leaves out (an empty coupon, an approval that never
    happened, ...) is decided there, from these facts."""
    return {
        "transaction": transaction,
        "status": status,
        "order_date": epoch_ms(ordered_at),
        "approved_date": epoch_ms(approved_at) if approved_at else None,
        "currency": currency,
        "price": str(price),
        "full_price": str(full_price),
        "original_offer_price": str(original_price),
        "checkout_country": CHECKOUT_COUNTRY,
        "is_order_bump": False,
        "parent_transaction": "",
        "event_tickets": 0,
        "payment_type": payment_type,
        "installments": installments,
        "billet": billet or None,
        "pix": pix or None,
        "refusal_reason": refusal_reason,
        "offer_code": offer_code,
        "coupon_code": coupon_code,
        "origin": origin or None,
        "sck_payment_link": (origin or {}).get("sck", ""),
        "invoice_by": "HOTMART",
        "subscription_anticipation": False,
        "recurrence": recurrence,
        "is_funnel": False,
        "business_model": "I",
    }


# --- One-off sample events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleStory:
    """The sale a one-off sample of a purchase event describes: how it was paid, whether the payment was
    approved, how long before the event it was ordered, and where its subscription stands after it."""

    payment_type: str
    approved: bool
    ordered_before: timedelta
    refused: bool = False
    subscription_status: str = "ACTIVE"


_MINUTES = timedelta(minutes=12)
# Each purchase event's sample is a consistent sale in the state the event describes (docs/lifecycle.md): an
# overdue or expired billet was ordered before its due date passed and never approved; a refused card has a
# refusal reason and no approval; a completed purchase was approved before its warranty ended.
SAMPLE_STORIES: dict[str, SampleStory] = {
    EventType.PURCHASE_APPROVED: SampleStory("CREDIT_CARD", True, _MINUTES),
    EventType.PURCHASE_COMPLETE: SampleStory("CREDIT_CARD", True, _MINUTES),  # plus the warranty, see below
    EventType.PURCHASE_CANCELED: SampleStory("CREDIT_CARD", False, _MINUTES, True, "INACTIVE"),
    EventType.PURCHASE_REFUNDED: SampleStory("CREDIT_CARD", True, timedelta(days=2), subscription_status="INACTIVE"),
    EventType.PURCHASE_CHARGEBACK: SampleStory("CREDIT_CARD", True, timedelta(days=3), subscription_status="INACTIVE"),
    EventType.PURCHASE_PROTEST: SampleStory("CREDIT_CARD", True, timedelta(days=1)),
    EventType.PURCHASE_DELAYED: SampleStory(
        "BILLET", False, timedelta(days=BILLET_DAYS + 1, hours=6), subscription_status="DELAYED"
    ),
    EventType.PURCHASE_EXPIRED: SampleStory(
        "BILLET", False, timedelta(days=BILLET_DAYS + 3), subscription_status="INACTIVE"
    ),
    EventType.PURCHASE_BILLET_PRINTED: SampleStory(
        "BILLET", False, timedelta(seconds=20), subscription_status="STARTED"
    ),
}
_SUBSCRIPTION_LIVE = ("STARTED", "ACTIVE", "DELAYED")  # a next charge is still coming


def sale_facts(
    *,
    event_type: str,
    product: Product,
    producer: Account,
    occurred_at: datetime,
    buyer_email: str | None = None,
    transaction: str | None = None,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """Facts for a one-off sample of ``event_type`` on ``product``, with no tracked transaction behind it.

    A purchase event's sample is the sale ``SAMPLE_STORIES`` says, its dates before ``occurred_at`` and in the
    order they would really happen: PURCHASE_DELAYED is a billet past its due date, PURCHASE_COMPLETE a card
    purchase whose warranty ended. Other events stand on an approved card purchase. Everything not given is
    made up."""
    rng = rng or random.Random()
    buyer = buyer_make(rng, email=buyer_email)
    story = SAMPLE_STORIES.get(event_type, SAMPLE_STORIES[EventType.PURCHASE_APPROVED])
    ordered_before = story.ordered_before
    if event_type == EventType.PURCHASE_COMPLETE:
        ordered_before += timedelta(days=product.warranty_days + 1)
    order_date = occurred_at - ordered_before
    approved_at = order_date + timedelta(seconds=rng.randint(2, 40)) if story.approved else None
    price = Decimal(product.price)
    billet = story.payment_type == "BILLET"
    code = transaction or transaction_code(rng)
    status = PURCHASE_STATUS.get(event_type, "APPROVED")
    subscription_status = story.subscription_status
    if event_type == EventType.SUBSCRIPTION_CANCELLATION:
        subscription_status = "CANCELLED_BY_CUSTOMER"
    next_charge = add_months(order_date, 1)
    recurrence = None
    if product.is_subscription:
        live = subscription_status in _SUBSCRIPTION_LIVE
        recurrence = {"number": 1, "date_next_charge": epoch_ms(next_charge) if live else None}
    facts: dict[str, Any] = {
        "product": product_facts(product, producer, warranty_until=warranty_end(product, approved_at or order_date)),
        "producer": producer_facts(producer),
        "buyer": buyer,
        "affiliates": [],
        "commissions": commissions(price, product.currency),
        "purchase": purchase_block(
            transaction=code,
            status=status,
            ordered_at=order_date,
            approved_at=approved_at,
            currency=product.currency,
            price=price,
            full_price=price,
            original_price=price,
            payment_type=story.payment_type,
            installments=1 if billet else rng.choice([1, 1, 2, 3, 6, 12]),
            billet=billet_for(rng, transaction=code, amount=price, due=billet_due(order_date)) if billet else None,
            refusal_reason=rng.choice(REFUSAL_REASONS) if story.refused else "",
            offer_code=f"{product.hotmart_id:x}"[-8:],
            recurrence=recurrence,
        ),
        "subscription": None,
        "member": {"module": {"id": _code(rng, 8).lower(), "name": f"Módulo {rng.randint(1, 12)}"}},
    }
    if product.is_subscription:
        old_day = rng.randint(1, 28)
        plans = plans_for(product)
        facts["subscription"] = {
            "id": rng.randint(1_000_000, 9_999_999),
            "status": subscription_status,
            "subscriber_code": subscriber_code(rng),
            "plan": plans[0],
            "previous_plan": plans[1] if len(plans) > 1 else plans[0],
            "recurrence_value": str(price),
            "cancellation_date": epoch_ms(occurred_at),
            "date_next_charge": epoch_ms(next_charge),
            "date_next_charge_iso": iso_utc(next_charge, millis=True),
            "old_charge_day": old_day,
            "new_charge_day": old_day % 28 + 1,
            "switch_plan_date": epoch_ms(occurred_at),
        }
    elif event_type in SUBSCRIPTION_EVENTS:
        raise ValueError(f"{event_type} needs a subscription product; {product.name!r} is not one")
    return facts


TEST_BUYER_EMAIL = "teste@example.com"


def test_sale_facts(
    *, product: Product, producer: Account, event_type: str, occurred_at: datetime, rng: random.Random | None = None
) -> dict[str, Any]:
    """Facts of a test sale, like Hotmart's "send test" button: the test product
    (``configurations.selectors.test_product``) and a test buyer."""
    facts = sale_facts(
        event_type=event_type,
        product=product,
        producer=producer,
        occurred_at=occurred_at,
        buyer_email=TEST_BUYER_EMAIL,
        rng=rng,
    )
    facts["buyer"].update(name="Comprador Teste", first_name="Comprador", last_name="Teste")
    return facts
