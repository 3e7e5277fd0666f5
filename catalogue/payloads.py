"""The event catalogue: one schema per Hotmart 2.0.0 event type.

Each schema mirrors a payload captured from Hotmart (``shared/reference/hotmart-samples``): same keys, same
nesting, same value types, and the real quirks (``creationDate`` instead of ``creation_date`` in
CLUB_FIRST_ACCESS, the hottok inside UPDATE_SUBSCRIPTION_CHARGE_DATE's body, its camelCase data keys, the
product id written as a string in CLUB_MODULE_COMPLETED). Where Hotmart's production webhooks of 2025 differ
from those test-button samples, production wins (docs/payloads.md): single purchases carry ``invoice_by`` and
``subscription_anticipation_purchase``, empty or meaningless fields are left out (a coupon never used, an
``xcod`` never given, the warranty of an unpaid purchase), and UPDATE_SUBSCRIPTION_CHARGE_DATE is stamped
``creation_date`` (``creationDate``, the test button's spelling, in test posts only).

Purchase fields also carry their historical name in the legacy 1.0 postback (``v1=``), and the 1.0 postback's
own fields (``aff``, ``cms_vendor``, ...) are declared beside the 2.0.0 fields they summarise: one catalogue
for both versions. Fields present only for some sales (billet or PIX codes, the subscription block, the
recurrence fields, tracking codes) carry a ``when``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from catalogue.events import PURCHASE_EVENTS, EventType, PayloadVersion
from catalogue.schema import (
    Affiliates,
    DocRow,
    Field,
    Format,
    Scope,
    const,
    document,
    document_form,
    fact,
    item,
    legacy,
    many,
    obj,
)

VERSION = "2.0.0"
NO = Affiliates.NO
BUYER = Affiliates.IF_ALLOWED

# Purchase status written in data.purchase.status for each purchase event.
PURCHASE_STATUS = {
    EventType.PURCHASE_APPROVED: "APPROVED",
    EventType.PURCHASE_COMPLETE: "COMPLETED",
    EventType.PURCHASE_CANCELED: "CANCELED",
    EventType.PURCHASE_REFUNDED: "REFUNDED",
    EventType.PURCHASE_CHARGEBACK: "CHARGEBACK",
    EventType.PURCHASE_PROTEST: "DISPUTE",
    EventType.PURCHASE_DELAYED: "DELAYED",
    EventType.PURCHASE_EXPIRED: "EXPIRED",
    EventType.PURCHASE_BILLET_PRINTED: "BILLET_PRINTED",
}


def S(name, description, get, size=None, affiliates=Affiliates.YES, **extra):  # noqa: N802 - reads like a table
    return Field(name, Format.STRING, description, size=size, affiliates=affiliates, get=get, **extra)


def N(name, description, get, size=None, affiliates=Affiliates.YES, **extra):  # noqa: N802
    return Field(name, Format.INTEGER, description, size=size, affiliates=affiliates, get=get, **extra)


def D(name, description, get, affiliates=Affiliates.YES, **extra):  # noqa: N802
    return Field(name, Format.DECIMAL, description, size=None, affiliates=affiliates, get=get, **extra)


def B(name, description, get, affiliates=Affiliates.YES, **extra):  # noqa: N802
    return Field(name, Format.BOOLEAN, description, affiliates=affiliates, get=get, **extra)


def T(name, description, get, affiliates=Affiliates.YES, **extra):  # noqa: N802
    return Field(name, Format.TIMESTAMP, description, size=13, affiliates=affiliates, get=get, **extra)


def DT(name, description, get, affiliates=Affiliates.YES, **extra):  # noqa: N802
    return Field(name, Format.DATETIME, description, size=24, affiliates=affiliates, get=get, **extra)


def money(name: str, description: str, amount: str, v1: str | None = None, v1_currency: str | None = None) -> Field:
    return obj(
        name,
        description,
        D("value", "Amount.", fact(amount), v1=v1),
        S("currency_value", "ISO 4217 currency code of the amount.", fact("purchase.currency"), size=3, v1=v1_currency),
    )


def lower(path: str):
    """The 1.0 postback writes codes in lower case (``approved``, ``credit_card``)."""
    getter = fact(path)
    return lambda scope: str(getter(scope)).lower()


def _has(path: str):
    """True when the fact at ``path`` exists and is not empty: the field is sent for this sale only."""
    keys = path.split(".")

    def check(scope: Scope) -> bool:
        data = scope.ctx.facts
        for key in keys:
            if not isinstance(data, dict) or not data.get(key):
                return False
            data = data[key]
        return True

    return check


def _commission(source: str):
    """The 1.0 postback's ``cms_*`` fields: the share of one source, 0 when there is none."""

    def getter(scope: Scope):
        return sum(float(c["value"]) for c in scope.ctx.facts["commissions"] if c["source"] == source)

    return getter


def _first_affiliate(key: str):
    def getter(scope: Scope) -> str:
        affiliates = scope.ctx.facts["affiliates"]
        return affiliates[0][key] if affiliates else ""

    return getter


def country(name: str, description: str, path: str) -> Field:
    return obj(
        name,
        description,
        S("name", "Country name.", fact(f"{path}.name"), size=100),
        S("iso", "ISO 3166-1 alpha-2 country code.", fact(f"{path}.iso"), size=2),
    )


def _status_not_in(statuses: frozenset[str]):
    """True when the purchase's status after this event is none of ``statuses``."""
    return lambda scope: scope.ctx.facts["purchase"]["status"] not in statuses


_has_subscription = _has("subscription")
_is_recurrence = _has("purchase.recurrence")

# Hotmart's production webhooks (2025) never carry the product's warranty date while the purchase is unpaid or
# refused: PURCHASE_BILLET_PRINTED, PURCHASE_CANCELED, PURCHASE_DELAYED (docs/payloads.md).
WITHOUT_WARRANTY = frozenset({"BILLET_PRINTED", "CANCELED", "DELAYED"})


# --- The shared blocks ------------------------------------------------------------------------------------

PRODUCT = obj(
    "product",
    "The product sold.",
    N("id", "Product id.", fact("product.id"), size=10, v1="prod"),
    S("ucode", "Product's unique code.", fact("product.ucode"), size=36),
    S("name", "Product name.", fact("product.name"), size=255, v1="prod_name"),
    DT(
        "warranty_date",
        "End of the warranty (refund) period; absent while the purchase is unpaid or refused (BILLET_PRINTED, "
        "CANCELED, DELAYED).",
        fact("product.warranty_date"),
        when=_status_not_in(WITHOUT_WARRANTY),
        v1="warranty_date",
    ),
    S(
        "support_email",
        "Producer's support e-mail for this product.",
        fact("product.support_email"),
        size=255,
        v1="product_support_email",
    ),
    B(
        "has_co_production",
        "Whether the product has co-producers.",
        fact("product.has_co_production"),
        v1="has_co_production",
    ),
    B("is_physical_product", "Whether the product is physical (shipped).", fact("product.is_physical")),
    obj(
        "content",
        "What the buyer receives: the products in this offer.",
        B(
            "has_physical_products",
            "Whether any of the products is physical.",
            lambda s: any(p["is_physical"] for p in s.ctx.facts["product"]["content"]),
        ),
        many(
            "products",
            "Products delivered with this purchase.",
            fact("product.content"),
            N("id", "Product id.", item("id"), size=10),
            S("ucode", "Product's unique code.", item("ucode"), size=36),
            S("name", "Product name.", item("name"), size=255),
            B("is_physical_product", "Whether this product is physical.", item("is_physical")),
        ),
    ),
)

AFFILIATES = many(
    "affiliates",
    "Affiliates credited with the sale; empty when the buyer came directly.",
    fact("affiliates"),
    S("affiliate_code", "Affiliate's code (as in the hotlink).", item("code"), size=20),
    S("name", "Affiliate's name.", item("name"), size=255),
)
AFFILIATE_V1 = (
    legacy(
        "aff",
        Format.STRING,
        "Code of the affiliate credited with the sale; empty when none.",
        _first_affiliate("code"),
        20,
    ),
    legacy("aff_name", Format.STRING, "Name of the affiliate credited with the sale.", _first_affiliate("name"), 255),
)

BUYER_BLOCK = obj(
    "buyer",
    "Who bought.",
    S("email", "Buyer's e-mail.", fact("buyer.email"), size=255, affiliates=BUYER, v1="email"),
    S("name", "Buyer's full name.", fact("buyer.name"), size=255, affiliates=BUYER, v1="name"),
    S("first_name", "Buyer's first name.", fact("buyer.first_name"), size=100, affiliates=BUYER, v1="first_name"),
    S("last_name", "Buyer's last name.", fact("buyer.last_name"), size=155, affiliates=BUYER, v1="last_name"),
    S(
        "checkout_phone_code",
        "Area code of the phone given at checkout.",
        fact("buyer.phone_code"),
        size=5,
        affiliates=BUYER,
        v1="phone_checkout_local_code",
    ),
    S(
        "checkout_phone",
        "Phone given at checkout, digits only, whole: area code and number (11 digits for a mobile).",
        lambda s: s.ctx.facts["buyer"]["phone_code"] + s.ctx.facts["buyer"]["phone"],
        size=20,
        affiliates=BUYER,
        v1="phone_checkout_number",
        v1_get=fact("buyer.phone"),  # the 1.0 postback splits it: phone_checkout_local_code and the number
    ),
    obj(
        "address",
        "Buyer's address.",
        S("city", "City.", fact("buyer.address.city"), size=100, affiliates=BUYER, v1="address_city"),
        S("country", "Country.", fact("buyer.address.country"), size=100, affiliates=BUYER, v1="address_country"),
        S(
            "country_iso",
            "ISO 3166-1 alpha-2 country code.",
            fact("buyer.address.country_iso"),
            size=2,
            affiliates=BUYER,
        ),
        S("state", "State.", fact("buyer.address.state"), size=100, affiliates=BUYER, v1="address_state"),
        S(
            "neighborhood",
            "Neighbourhood.",
            fact("buyer.address.neighborhood"),
            size=100,
            affiliates=BUYER,
            v1="address_district",
        ),
        S(
            "zipcode",
            "Postal code, digits only.",
            fact("buyer.address.zipcode"),
            size=10,
            affiliates=BUYER,
            v1="address_zip_code",
        ),
        S("address", "Street.", fact("buyer.address.street"), size=255, affiliates=BUYER, v1="address"),
        S("number", "Street number.", fact("buyer.address.number"), size=20, affiliates=BUYER, v1="address_number"),
        S(
            "complement",
            "Address complement.",
            fact("buyer.address.complement"),
            size=255,
            affiliates=BUYER,
            v1="address_comp",
        ),
        affiliates=BUYER,
    ),
    S(
        "document",
        "Buyer's tax document (CPF or CNPJ), digits only.",
        fact("buyer.document"),
        size=20,
        affiliates=BUYER,
        v1="doc",
    ),
    S("document_type", "CPF or CNPJ.", fact("buyer.document_type"), size=4, affiliates=BUYER, v1="doc_type"),
    affiliates=BUYER,
)

PRODUCER = obj(
    "producer",
    "The producer who owns the product.",
    S("name", "Producer's name.", fact("producer.name"), size=255, v1="producer_name"),
    S(
        "document",
        "Producer's tax document, digits only.",
        fact("producer.document"),
        size=20,
        affiliates=NO,
        v1="producer_document",
    ),
    S(
        "legal_nature",
        "Pessoa Física or Pessoa Jurídica.",
        fact("producer.legal_nature"),
        size=40,
        affiliates=NO,
        v1="producer_legal_nature",
    ),
)

COMMISSIONS = many(
    "commissions",
    "How the price is split: the marketplace fee, the producer's share and each affiliate's.",
    fact("commissions"),
    D("value", "Amount of this share.", item("value")),
    S("source", "MARKETPLACE, PRODUCER, COPRODUCER or AFFILIATE.", item("source"), size=20),
    S("currency_value", "ISO 4217 currency code of the amount.", item("currency"), size=3),
    affiliates=NO,
)
COMMISSIONS_V1 = (
    legacy("cms_marketplace", Format.DECIMAL, "Hotmart's fee on the sale.", _commission("MARKETPLACE"), affiliates=NO),
    legacy("cms_vendor", Format.DECIMAL, "The producer's share of the sale.", _commission("PRODUCER"), affiliates=NO),
    legacy(
        "cms_aff",
        Format.DECIMAL,
        "The affiliate's share of the sale; 0 without one.",
        _commission("AFFILIATE"),
        affiliates=NO,
    ),
)

BILLET = Affiliates.IF_ALLOWED  # the help article: affiliates get the billet link and code when allowed
_is_billet = _has("purchase.billet")
_is_pix = _has("purchase.pix")
_was_refused = _has("purchase.refusal_reason")

PAYMENT = obj(
    "payment",
    "How it was paid. Billet and PIX fields are present for those payment types only.",
    N(
        "installments_number",
        "Number of installments.",
        fact("purchase.installments"),
        size=2,
        v1="installments_number",
    ),
    S(
        "type",
        "CREDIT_CARD, BILLET, PIX, PAYPAL, ...",
        fact("purchase.payment_type"),
        size=30,
        v1="payment_type",
        v1_get=lower("purchase.payment_type"),
    ),
    S(
        "billet_url",
        "Link to the billet (boleto) to pay.",
        fact("purchase.billet.url"),
        size=255,
        affiliates=BILLET,
        when=_is_billet,
        v1="billet_url",
    ),
    S(
        "billet_barcode",
        "The billet's typeable line (linha digitável), 47 digits.",
        fact("purchase.billet.barcode"),
        size=54,
        affiliates=BILLET,
        when=_is_billet,
        v1="billet_barcode",
    ),
    S(
        "pix_code",
        "The PIX copy-and-paste code (EMV BR Code).",
        fact("purchase.pix.code"),
        size=512,
        affiliates=BILLET,
        when=_is_pix,
        v1="pix_code",
    ),
    S(
        "pix_qrcode",
        "Link to the PIX QR code image.",
        fact("purchase.pix.qrcode"),
        size=255,
        affiliates=BILLET,
        when=_is_pix,
        v1="pix_qrcode",
    ),
    T(
        "pix_expiration_date",
        "When the PIX code stops being payable.",
        fact("purchase.pix.expiration"),
        affiliates=BILLET,
        when=_is_pix,
        v1="pix_expiration_date",
    ),
    S(
        "refusal_reason",
        "Why the card was refused; present for refused payments only.",
        fact("purchase.refusal_reason"),
        size=255,
        when=_was_refused,
        v1="refusal_reason",
    ),
)

PURCHASE = obj(
    "purchase",
    "The transaction.",
    T(
        "approved_date",
        "When the payment was approved; absent while it is not.",
        fact("purchase.approved_date"),
        when=_has("purchase.approved_date"),
        v1="confirmation_purchase_date",
    ),
    money(
        "full_price",
        "Price including interest and fees paid by the buyer.",
        "purchase.full_price",
        v1="full_price",
    ),
    money("price", "Price of the offer paid by the buyer.", "purchase.price", v1="price", v1_currency="currency"),
    country("checkout_country", "Country of the checkout.", "purchase.checkout_country"),
    obj(
        "order_bump",
        "Whether this purchase was an order bump added to another purchase.",
        B("is_order_bump", "Whether it is an order bump.", fact("purchase.is_order_bump"), v1="order_bump"),
        S(
            "parent_purchase_transaction",
            "Transaction of the main purchase when this is an order bump, else empty.",
            fact("purchase.parent_transaction"),
            size=20,
        ),
    ),
    obj(
        "event_tickets",
        "Tickets, for event products.",
        N("amount", "Number of tickets bought; 0 for products that are not events.", fact("purchase.event_tickets")),
    ),
    money(
        "original_offer_price",
        "Offer's price before coupons.",
        "purchase.original_offer_price",
        v1="original_offer_price",
    ),
    T("order_date", "When the order was placed.", fact("purchase.order_date"), v1="purchase_date"),
    S(
        "status",
        "Status of the purchase after this event, e.g. APPROVED, COMPLETED, DISPUTE.",
        fact("purchase.status"),
        size=20,
        v1="status",
        v1_get=lower("purchase.status"),
    ),
    S(
        "transaction",
        "Transaction code, e.g. HP16015479281022.",
        fact("purchase.transaction"),
        size=20,
        v1="transaction",
    ),
    PAYMENT,
    obj(
        "offer",
        "The offer bought.",
        S("code", "Offer code.", fact("purchase.offer_code"), size=20, v1="off"),
        S(
            "coupon_code",
            "Coupon used; absent when none was.",
            fact("purchase.coupon_code"),
            size=50,
            when=_has("purchase.coupon_code"),
            v1="coupon_code",
        ),
    ),
    obj(
        "origin",
        "Tracking codes of the checkout link (src, sck, xcod); present when the link carried any.",
        S("src", "Traffic source given in the link's src parameter.", fact("purchase.origin.src"), size=255, v1="src"),
        S("sck", "Tracking code given in the link's sck parameter.", fact("purchase.origin.sck"), size=255, v1="sck"),
        S(
            "xcod",
            "Your own external code given in the link's xcod parameter; absent when the link had none.",
            fact("purchase.origin.xcod"),
            size=255,
            when=_has("purchase.origin.xcod"),
            v1="xcod",
        ),
        when=_has("purchase.origin"),
    ),
    S(
        "sckPaymentLink",
        "Tracking code (sck) of the payment link, else empty.",
        fact("purchase.sck_payment_link"),
        size=100,
    ),
    S("invoice_by", "Who issues the purchase's invoice: HOTMART.", fact("purchase.invoice_by"), size=20),
    B(
        "subscription_anticipation_purchase",
        "Whether a subscriber paid this charge ahead of its date; false for single purchases.",
        fact("purchase.subscription_anticipation"),
    ),
    T(
        "date_next_charge",
        "When the subscription will be charged next; absent for single purchases and once the subscription "
        "no longer goes on (a first charge refused or never paid, a refund, a cancellation).",
        fact("purchase.recurrence.date_next_charge"),
        when=_has("purchase.recurrence.date_next_charge"),
    ),
    N(
        "recurrence_number",
        "Which charge of the subscription this purchase is: 1 for the first, 2 for the first renewal, ...",
        fact("purchase.recurrence.number"),
        size=5,
        when=_is_recurrence,
        v1="recurrency",
    ),
    B("is_funnel", "Whether the purchase came from a sales funnel.", fact("purchase.is_funnel")),
    S(
        "business_model",
        "I for a single purchase; other codes for other models.",
        fact("purchase.business_model"),
        size=2,
    ),
)

SUBSCRIPTION = obj(
    "subscription",
    "Present when the product is sold by subscription.",
    S(
        "status",
        "Subscription status: ACTIVE, STARTED, DELAYED, INACTIVE, CANCELLED_BY_CUSTOMER, ...",
        fact("subscription.status"),
        size=30,
        v1="subscription_status",
        v1_get=lower("subscription.status"),
    ),
    obj(
        "plan",
        "Subscription plan.",
        N("id", "Plan id.", fact("subscription.plan.id"), size=10),
        S("name", "Plan name.", fact("subscription.plan.name"), size=255, v1="name_subscription_plan"),
    ),
    obj(
        "subscriber",
        "The subscriber.",
        S("code", "Subscriber code.", fact("subscription.subscriber_code"), size=20, v1="subscriber_code"),
    ),
    when=_has_subscription,
)

PURCHASE_DATA = (
    PRODUCT,
    AFFILIATES,
    *AFFILIATE_V1,
    BUYER_BLOCK,
    PRODUCER,
    COMMISSIONS,
    *COMMISSIONS_V1,
    PURCHASE,
    SUBSCRIPTION,
)

# --- Envelope ---------------------------------------------------------------------------------------------


HOTTOK_DESCRIPTION = "The recipient's verification token, also sent in the X-HOTMART-HOTTOK header."
CREATION_DESCRIPTION = "When the event happened; never later than the moment it is sent. Retries and resends repeat it."
# ``facts["variant"]`` of a test post: spelled as Hotmart's "send test" button spells it (docs/payloads.md).
TEST_BUTTON = "test_button"


def _test_button(scope: Scope) -> bool:
    return scope.ctx.facts.get("variant") == TEST_BUTTON


def envelope(
    *data: Field,
    creation_key: str = "creation_date",
    test_button_creation_key: str | None = None,
    with_hottok: bool = False,
) -> tuple[Field, ...]:
    """The fields around ``data``. ``test_button_creation_key``: the creation moment's other spelling, in test
    posts only, where Hotmart's test button spells it differently from its production webhooks."""
    created = [Field(creation_key, Format.TIMESTAMP, CREATION_DESCRIPTION, size=13, get=lambda s: s.ctx.created_ms)]
    if test_button_creation_key:
        created = [
            replace(created[0], when=lambda s: not _test_button(s)),
            Field(
                test_button_creation_key,
                Format.TIMESTAMP,
                f"{creation_key}, as Hotmart's test button spells it: in test posts only.",
                size=13,
                get=lambda s: s.ctx.created_ms,
                when=_test_button,
            ),
        ]
    head = [
        legacy("hottok", Format.STRING, HOTTOK_DESCRIPTION, lambda s: s.ctx.hottok, size=64),
        Field(
            "id",
            Format.UUID,
            "Unique id of the event. Retries and resends repeat it: use it to ignore duplicates.",
            size=36,
            get=lambda s: s.ctx.event_id,
        ),
        *created,
        Field("event", Format.STRING, "The event type.", size=40, get=lambda s: s.ctx.event_type),
        Field("version", Format.STRING, "Version of the payload format.", size=5, get=const(VERSION)),
    ]
    if with_hottok:
        head.append(Field("hottok", Format.STRING, HOTTOK_DESCRIPTION, size=64, get=lambda s: s.ctx.hottok))
    return (*head, obj("data", "The event's data.", *data))


# --- The schemas ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventSchema:
    event_type: str
    summary: str
    fields: tuple[Field, ...]

    @property
    def versions(self) -> tuple[str, ...]:
        """The payload versions this event is sent in: the legacy 1.0 postback carries purchase events only."""
        if self.event_type in PURCHASE_EVENTS:
            return (PayloadVersion.V2.value, PayloadVersion.V1.value)
        return (PayloadVersion.V2.value,)

    def rows(self, version: str = PayloadVersion.V2) -> list[DocRow]:
        """The parameter table of this event in ``version``: nested JSON fields, or 1.0's flat form fields."""
        if version == PayloadVersion.V1:
            return document_form(self.fields) if PayloadVersion.V1 in self.versions else []
        return document(self.fields)


_PURCHASE_SUMMARIES = {
    EventType.PURCHASE_APPROVED: "The payment was approved: release the buyer's access.",
    EventType.PURCHASE_COMPLETE: "The warranty period ended without a refund: the sale is final.",
    EventType.PURCHASE_CANCELED: "The purchase was canceled, e.g. the card was refused.",
    EventType.PURCHASE_REFUNDED: "The buyer was refunded: revoke access.",
    EventType.PURCHASE_CHARGEBACK: "The card holder disputed the charge with the bank: revoke access.",
    EventType.PURCHASE_PROTEST: "The buyer asked for a refund; the purchase is in dispute.",
    EventType.PURCHASE_DELAYED: "The payment is overdue (e.g. a subscription renewal or a billet not yet paid).",
    EventType.PURCHASE_EXPIRED: "The billet or PIX expired without payment.",
    EventType.PURCHASE_BILLET_PRINTED: "A billet or PIX code was generated; the payment is awaited.",
}

CATALOGUE: dict[str, EventSchema] = {
    event_type.value: EventSchema(event_type.value, summary, envelope(*PURCHASE_DATA))
    for event_type, summary in _PURCHASE_SUMMARIES.items()
}

CATALOGUE[EventType.PURCHASE_OUT_OF_SHOPPING_CART] = EventSchema(
    EventType.PURCHASE_OUT_OF_SHOPPING_CART,
    "A buyer filled in the checkout and left without paying (cart abandonment).",
    envelope(
        B(
            "affiliate",
            "Whether the visit came through an affiliate's hotlink.",
            lambda s: bool(s.ctx.facts["affiliates"]),
        ),
        obj(
            "product",
            "The product in the cart.",
            N("id", "Product id.", fact("product.id"), size=10),
            S("name", "Product name.", fact("product.name"), size=255),
        ),
        S("buyer_ip", "IP address of the visitor.", fact("buyer.ip"), size=45, affiliates=BUYER),
        obj(
            "buyer",
            "The visitor who abandoned the cart.",
            S("name", "Name given at checkout.", fact("buyer.name"), size=255, affiliates=BUYER),
            S("email", "E-mail given at checkout.", fact("buyer.email"), size=255, affiliates=BUYER),
            S("phone", "Phone given at checkout, digits only.", fact("buyer.phone"), size=20, affiliates=BUYER),
            affiliates=BUYER,
        ),
        obj("offer", "The offer in the cart.", S("code", "Offer code.", fact("purchase.offer_code"), size=20)),
        country("checkout_country", "Country of the checkout.", "purchase.checkout_country"),
    ),
)

CATALOGUE[EventType.SUBSCRIPTION_CANCELLATION] = EventSchema(
    EventType.SUBSCRIPTION_CANCELLATION,
    "A subscription was cancelled, by the subscriber or for lack of payment.",
    envelope(
        D("actual_recurrence_value", "Value of the current recurrence.", fact("subscription.recurrence_value")),
        T("cancellation_date", "When the subscription was cancelled.", fact("subscription.cancellation_date")),
        T("date_next_charge", "When the next charge would have been.", fact("subscription.date_next_charge")),
        obj(
            "product",
            "The subscription product.",
            N("id", "Product id.", fact("product.id"), size=10),
            S("name", "Product name.", fact("product.name"), size=255),
        ),
        obj(
            "subscriber",
            "The subscriber.",
            S("code", "Subscriber code.", fact("subscription.subscriber_code"), size=20),
            S("name", "Subscriber's name.", fact("buyer.name"), size=255, affiliates=BUYER),
            S("email", "Subscriber's e-mail.", fact("buyer.email"), size=255, affiliates=BUYER),
            obj(
                "phone",
                "Subscriber's phones, as registered (often empty).",
                S("dddPhone", "Area code of the landline.", fact("buyer.landline_code"), size=5, affiliates=BUYER),
                S("phone", "Landline number.", fact("buyer.landline"), size=20, affiliates=BUYER),
                S("dddCell", "Area code of the mobile.", fact("buyer.phone_code"), size=5, affiliates=BUYER),
                S("cell", "Mobile number.", fact("buyer.phone"), size=20, affiliates=BUYER),
                affiliates=BUYER,
            ),
        ),
        obj(
            "subscription",
            "The subscription.",
            N("id", "Subscription id.", fact("subscription.id"), size=10),
            obj(
                "plan",
                "Plan of the subscription.",
                N("id", "Plan id.", fact("subscription.plan.id"), size=10),
                S("name", "Plan name.", fact("subscription.plan.name"), size=255),
            ),
        ),
    ),
)


def _plans(scope: Scope) -> list[dict]:
    subscription = scope.ctx.facts["subscription"]
    return [
        {**subscription["plan"], "current": True},
        {**subscription["previous_plan"], "current": False},
    ]


CATALOGUE[EventType.SWITCH_PLAN] = EventSchema(
    EventType.SWITCH_PLAN,
    "A subscriber moved to another plan of the same product.",
    envelope(
        T("switch_plan_date", "When the plan changed.", fact("subscription.switch_plan_date")),
        obj(
            "subscription",
            "The subscription.",
            S("subscriber_code", "Subscriber code.", fact("subscription.subscriber_code"), size=20),
            S("status", "Subscription status.", fact("subscription.status"), size=30),
            obj(
                "product",
                "The subscription product.",
                N("id", "Product id.", fact("product.id"), size=10),
                S("name", "Product name.", fact("product.name"), size=255),
            ),
            obj(
                "user",
                "The subscriber.",
                S("email", "Subscriber's e-mail.", fact("buyer.email"), size=255, affiliates=BUYER),
            ),
        ),
        many(
            "plans",
            "The new plan (current: true) and the previous one (current: false).",
            _plans,
            N("id", "Plan id.", item("id"), size=10),
            S("name", "Plan name.", item("name"), size=255),
            obj("offer", "The plan's offer.", S("key", "Offer key.", item("offer_code"), size=20)),
            B("current", "Whether this is the plan now in force.", item("current")),
        ),
    ),
)

CATALOGUE[EventType.UPDATE_SUBSCRIPTION_CHARGE_DATE] = EventSchema(
    EventType.UPDATE_SUBSCRIPTION_CHARGE_DATE,
    "A subscriber changed the day of the month they are charged.",
    envelope(
        obj(
            "subscription",
            "The subscription.",
            DT("dateNextCharge", "Date of the next charge.", fact("subscription.date_next_charge_iso")),
            N("newChargeDay", "New day of the month of the charge.", fact("subscription.new_charge_day"), size=2),
            N("oldChargeDay", "Previous day of the month of the charge.", fact("subscription.old_charge_day"), size=2),
            S("status", "Subscription status.", fact("subscription.status"), size=30),
            obj(
                "product",
                "The subscription product.",
                N("id", "Product id.", fact("product.id"), size=10),
                S("name", "Product name.", fact("product.name"), size=255),
            ),
        ),
        obj(
            "subscriber",
            "The subscriber.",
            S("name", "Subscriber's name.", fact("buyer.name"), size=255, affiliates=BUYER),
            S("email", "Subscriber's e-mail.", fact("buyer.email"), size=255, affiliates=BUYER),
            S("code", "Subscriber code.", fact("subscription.subscriber_code"), size=20),
        ),
        obj(
            "plan",
            "The subscription's plan.",
            N("id", "Plan id.", fact("subscription.plan.id"), size=10),
            S("name", "Plan name.", fact("subscription.plan.name"), size=255),
            obj("offer", "The plan's offer.", S("code", "Offer code.", fact("subscription.plan.offer_code"), size=20)),
        ),
        test_button_creation_key="creationDate",
        with_hottok=True,
    ),
)

CATALOGUE[EventType.CLUB_FIRST_ACCESS] = EventSchema(
    EventType.CLUB_FIRST_ACCESS,
    "A buyer entered the product's members area for the first time.",
    envelope(
        obj(
            "product",
            "The product of the members area.",
            N("id", "Product id.", fact("product.id"), size=10),
            S("name", "Product name.", fact("product.name"), size=255),
        ),
        obj(
            "user",
            "The member.",
            S("name", "Member's name.", fact("buyer.name"), size=255, affiliates=BUYER),
            S("email", "Member's e-mail.", fact("buyer.email"), size=255, affiliates=BUYER),
        ),
        creation_key="creationDate",
    ),
)

CATALOGUE[EventType.CLUB_MODULE_COMPLETED] = EventSchema(
    EventType.CLUB_MODULE_COMPLETED,
    "A member completed a module of the product's members area.",
    envelope(
        obj(
            "product",
            "The product of the members area.",
            # Hotmart writes this id as a string in this event only.
            S("id", "Product id, written as a string in this event.", fact("product.id"), size=10),
            S("name", "Product name.", fact("product.name"), size=255),
        ),
        obj(
            "user",
            "The member.",
            S("email", "Member's e-mail.", fact("buyer.email"), size=255, affiliates=BUYER),
            S("name", "Member's name.", fact("buyer.name"), size=255, affiliates=BUYER),
        ),
        obj(
            "module",
            "The module completed.",
            S("id", "Module id.", fact("member.module.id"), size=40),
            S("name", "Module name.", fact("member.module.name"), size=255),
        ),
    ),
)

assert set(CATALOGUE) == set(EventType.values), "every event type needs a schema"
