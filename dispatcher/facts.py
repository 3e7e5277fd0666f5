"""Simulated facts of a sale: the buyer, the purchase, the subscription, made up but realistic.

An event stores these facts; its payloads are built from them by the catalogue. They are written in our
own terms (``buyer.address.street``), the catalogue maps them to Hotmart's names (``buyer.address.address``).
"""

from __future__ import annotations

import random
import string
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from faker import Faker

from configurations.events import SUBSCRIPTION_EVENTS, EventType
from configurations.models import Account, Product
from dispatcher.catalogue import PURCHASE_STATUS

MARKETPLACE_FEE_RATE = Decimal("0.099")  # Hotmart keeps 9.9% + 1.00 per sale
MARKETPLACE_FEE_FIXED = Decimal("1.00")

_faker = Faker("pt_BR")


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


def _ascii(text: str) -> str:
    """``Letícia Souza`` -> ``leticia.souza``: made-up e-mail addresses stay plain ASCII."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().replace(" ", "")


def _buyer(rng: random.Random, email: str | None) -> dict[str, Any]:
    _faker.seed_instance(rng.random())
    first, last = _faker.first_name(), _faker.last_name()
    digits = string.digits
    area = rng.choice(["11", "21", "31", "34", "41", "51", "61", "71", "81", "85"])
    return {
        "email": email or _ascii(f"{first}.{last}.{_code(rng, 4, digits)}@example.com"),
        "name": f"{first} {last}",
        "first_name": first,
        "last_name": last,
        "phone_code": area,
        "phone": "9" + _code(rng, 8, digits),
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


def _plan(product: Product, index: int) -> dict[str, Any]:
    names = ["Plano Mensal", "Plano Anual", "Plano Trimestral"]
    return {
        "id": product.hotmart_id * 10 + index,
        "name": f"{names[index % len(names)]} - {product.name}"[:255],
        "offer_code": f"{product.hotmart_id:x}{index}"[-8:],
    }


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
    """Facts for one event of ``event_type`` on ``product``; everything not given is made up."""
    rng = rng or random.Random()
    buyer = _buyer(rng, buyer_email)
    status = PURCHASE_STATUS.get(event_type, "APPROVED")
    order_date = occurred_at - timedelta(minutes=rng.randint(1, 30))
    approved_at = order_date + timedelta(seconds=rng.randint(2, 40))
    if event_type == EventType.PURCHASE_COMPLETE:
        # A purchase is complete once its warranty is over.
        order_date = occurred_at - timedelta(days=product.warranty_days, hours=1)
        approved_at = order_date + timedelta(seconds=5)
    price = Decimal(product.price)
    fee = (price * MARKETPLACE_FEE_RATE + MARKETPLACE_FEE_FIXED).quantize(Decimal("0.01")) if price else Decimal(0)
    billet = event_type in (EventType.PURCHASE_BILLET_PRINTED, EventType.PURCHASE_EXPIRED)
    warranty_end = (approved_at + timedelta(days=product.warranty_days)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    facts: dict[str, Any] = {
        "product": {
            "id": product.hotmart_id,
            "ucode": str(product.ucode),
            "name": product.name,
            "warranty_date": iso_utc(warranty_end),
            "support_email": product.support_email or producer.user.email or "support@example.com",
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
        },
        "producer": {
            "name": producer.producer_name or producer.user.get_username(),
            "document": producer.document,
            "legal_nature": producer.legal_nature,
        },
        "buyer": buyer,
        "affiliates": [],
        "commissions": [
            {"value": str(fee), "source": "MARKETPLACE", "currency": product.currency},
            {"value": str(price - fee), "source": "PRODUCER", "currency": product.currency},
        ],
        "purchase": {
            "transaction": transaction or transaction_code(rng),
            "status": status,
            "order_date": epoch_ms(order_date),
            "approved_date": epoch_ms(approved_at),
            "currency": product.currency,
            "price": str(price),
            "full_price": str(price),
            "original_offer_price": str(price),
            "checkout_country": {"name": "Brasil", "iso": "BR"},
            "is_order_bump": False,
            "parent_transaction": "",
            "event_tickets": 0,
            "payment_type": "BILLET" if billet else "CREDIT_CARD",
            "installments": 1 if billet else rng.choice([1, 1, 2, 3, 6, 12]),
            "offer_code": f"{product.hotmart_id:x}"[-8:],
            "coupon_code": "",
            "sck_payment_link": "",
            "is_funnel": False,
            "business_model": "I",
        },
        "subscription": None,
        "member": {"module": {"id": _code(rng, 8).lower(), "name": f"Módulo {rng.randint(1, 12)}"}},
    }
    if product.is_subscription:
        next_charge = occurred_at + timedelta(days=30)
        old_day = rng.randint(1, 28)
        facts["subscription"] = {
            "id": rng.randint(1_000_000, 9_999_999),
            "status": "CANCELLED_BY_CUSTOMER" if event_type == EventType.SUBSCRIPTION_CANCELLATION else "ACTIVE",
            "subscriber_code": _code(rng, 8),
            "plan": _plan(product, 0),
            "previous_plan": _plan(product, 1),
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


def test_product(*, owner) -> Product:
    """The product of test posts, never saved: like Hotmart's test button, id 0 and a test name."""
    return Product(
        owner=owner,
        name="Produto de teste",
        hotmart_id=0,
        ucode=uuid.UUID(int=0),
        price=Decimal("1500.00"),
        currency="BRL",
        is_subscription=True,
        support_email="suporte@example.com",
    )


TEST_BUYER_EMAIL = "teste@example.com"


def test_sale_facts(
    *, owner, producer: Account, event_type: str, occurred_at: datetime, rng: random.Random | None = None
) -> dict[str, Any]:
    """Facts of a test sale, like Hotmart's "send test" button: the test product and a test buyer."""
    facts = sale_facts(
        event_type=event_type,
        product=test_product(owner=owner),
        producer=producer,
        occurred_at=occurred_at,
        buyer_email=TEST_BUYER_EMAIL,
        rng=rng,
    )
    facts["buyer"].update(name="Comprador Teste", first_name="Comprador", last_name="Teste")
    return facts
