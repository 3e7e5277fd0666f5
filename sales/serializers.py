"""The API's shapes of transactions, subscriptions and what a simulator action recorded.

Transactions and subscriptions are rendered from ``sales.output`` (the data ``simulate --json`` prints), so the
API and the command line show one shape; these serializers document it in the OpenAPI schema and check it on
the way out. Requests are parsed here and judged by ``sales.services``.
"""

from __future__ import annotations

from rest_framework import serializers

from catalogue.events import EventType
from configurations.serializers import id_field
from history.serializers import EventSerializer, NotificationSummarySerializer, PageInfoSerializer, PageQuerySerializer
from sales import lifecycle
from sales.lifecycle import CANCELLED_BY, PaymentType, PurchaseStatus, SubscriptionStatus
from sales.services import MAX_INSTALLMENTS, payment_type_parse

# --- Fields -----------------------------------------------------------------------------------------------


class PaymentTypeField(serializers.ChoiceField):
    """A payment type, also as people write it: ``card``, ``credit_card``, ``boleto``, ``pix`` (any case)."""

    def __init__(self, **kwargs):
        super().__init__(choices=PaymentType.choices, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = payment_type_parse(data) or data
        return super().to_internal_value(data)


class StatusField(serializers.ChoiceField):
    """A purchase status, also as a verb (``refund``) or an event name (``PURCHASE_PROTEST``), any case."""

    def __init__(self, **kwargs):
        super().__init__(choices=PurchaseStatus.choices, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = lifecycle.status_parse(data) or data
        return super().to_internal_value(data)


def at_field() -> serializers.DateTimeField:
    return serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "When it happens in the story (ISO 8601, 2000 to 2099), never before the previous event; default: now. "
            "Its webhooks are dated then and never sent before: a future moment is scheduled."
        ),
    )


def schedule_field(real_moment: str) -> serializers.BooleanField:
    return serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            f"Date it at its real moment ({real_moment}) and send it then, instead of now; until then its "
            "notifications are pending. Not with `at`."
        ),
    )


def tracking_field(help_text: str) -> serializers.CharField:
    return serializers.CharField(required=False, default="", allow_blank=True, max_length=255, help_text=help_text)


# --- Requests ---------------------------------------------------------------------------------------------


class CheckoutSerializer(serializers.Serializer):
    """What a visit to the checkout carries, whether it ends in a purchase or an abandoned cart."""

    product = id_field(
        required=False, allow_null=True, default=None, help_text="Hotmart product id; default: your first."
    )
    buyer_email = serializers.EmailField(
        required=False, allow_null=True, default=None, max_length=254, help_text="Default: a made-up buyer."
    )
    buyer_name = serializers.CharField(required=False, allow_null=True, default=None, max_length=255)
    affiliate_code = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        max_length=20,
        help_text="Through this affiliate's hotlink (see GET /api/v1/affiliations): it is notified too.",
    )
    at = at_field()


class TransactionCreateSerializer(CheckoutSerializer):
    payment_type = PaymentTypeField(
        required=False,
        default=PaymentType.CREDIT_CARD,
        help_text="A card purchase starts APPROVED (CANCELED when `refused`); a billet or PIX one BILLET_PRINTED. "
        "Also `card`, `boleto`, any case.",
    )
    installments = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=MAX_INSTALLMENTS,
        help_text="Card installments (with interest in `full_price`); a billet or PIX is 1.",
    )
    refused = serializers.BooleanField(required=False, default=False, help_text="The card is refused at checkout.")
    coupon_code = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=50, help_text="Takes 10% off the price."
    )
    src = tracking_field("Tracking code `src` of the checkout link.")
    sck = tracking_field("Tracking code `sck` of the checkout link.")
    xcod = tracking_field("Your own code `xcod` of the checkout link.")
    plan = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        max_length=255,
        help_text="One of a subscription product's plans (monthly, quarterly, yearly unless its owner chose others; "
        "default its shortest), or a plan's id or name.",
    )


class TransactionQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(choices=PurchaseStatus.choices, required=False)
    product = id_field(required=False, help_text="A Hotmart product id of yours.")


class TransitionSerializer(serializers.Serializer):
    to = StatusField(
        help_text="The status to move to; also a verb (`refund`, `approve`) or its event (`PURCHASE_REFUNDED`). "
        "The transaction's `next` lists the legal moves; another one answers 400 naming them."
    )
    at = at_field()
    schedule = schedule_field("the warranty's end for COMPLETED, the payment's due date for DELAYED and EXPIRED")


class MomentSerializer(serializers.Serializer):
    at = at_field()


class ModuleCompleteSerializer(serializers.Serializer):
    module = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        max_length=255,
        help_text="Its number (1, 2, ...), id or name; default: the next one not completed.",
    )
    at = at_field()


class SubscriptionQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(choices=SubscriptionStatus.choices, required=False)


class RenewSerializer(serializers.Serializer):
    refused = serializers.BooleanField(
        required=False, default=False, help_text="The card charge is refused: PURCHASE_DELAYED."
    )
    at = at_field()
    schedule = schedule_field("the subscription's next charge date")


class CancelSerializer(serializers.Serializer):
    by = serializers.ChoiceField(
        choices=list(CANCELLED_BY), required=False, default="customer", help_text="Who cancels."
    )
    at = at_field()


class SwitchPlanSerializer(serializers.Serializer):
    plan = serializers.CharField(
        max_length=255, help_text="One of the product's plans by key (monthly, ...), id or name."
    )
    at = at_field()


class ChargeDaySerializer(serializers.Serializer):
    day = serializers.IntegerField(min_value=1, max_value=31, help_text="Day of the month (clamped to short months).")
    at = at_field()


class CartAbandonSerializer(CheckoutSerializer):
    buyer_phone = serializers.CharField(
        required=False, allow_null=True, default=None, max_length=20, help_text="Digits only."
    )


# --- Answers ----------------------------------------------------------------------------------------------


class MoveSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=PurchaseStatus.choices)
    event = serializers.ChoiceField(choices=EventType.choices, help_text="The event the move emits.")
    verb = serializers.CharField(help_text="What a person calls it, e.g. `refund`.")
    meaning = serializers.CharField()
    not_before = serializers.DateTimeField(
        allow_null=True,
        help_text="Its real moment: asked for earlier it is made now (its dates unchanged), or then with `schedule`.",
    )
    until = serializers.DateTimeField(allow_null=True, help_text="No longer possible after this moment.")
    possible_now = serializers.BooleanField()


class BilletSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The billet's link (payload `billet_url`).")
    barcode = serializers.CharField(help_text="Its typeable line (payload `billet_barcode`).")


class PixSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The copy-and-paste BR Code (payload `pix_code`).")
    qrcode = serializers.CharField(help_text="Link to the QR code (payload `pix_qrcode`).")
    expiration = serializers.IntegerField(help_text="Epoch milliseconds (payload `pix_expiration_date`).")


class OriginSerializer(serializers.Serializer):
    src = serializers.CharField(allow_blank=True)
    sck = serializers.CharField(allow_blank=True)
    xcod = serializers.CharField(allow_blank=True)


class TransactionSerializer(serializers.Serializer):
    """A transaction as it stands (``sales.output.purchase_data``)."""

    transaction = serializers.CharField(help_text="Its code, `HP` and 14 digits.")
    status = serializers.ChoiceField(choices=PurchaseStatus.choices)
    product = serializers.IntegerField(help_text="Hotmart product id.")
    payment_type = serializers.ChoiceField(choices=PaymentType.choices)
    installments = serializers.IntegerField()
    price = serializers.CharField(help_text="Decimal, e.g. `197.00`: the offer's price (less a coupon).")
    full_price = serializers.CharField(help_text="What the buyer pays in total, installment interest included.")
    currency = serializers.CharField()
    offer_code = serializers.CharField()
    coupon_code = serializers.CharField(allow_null=True)
    origin = OriginSerializer(allow_null=True, help_text="The checkout link's tracking codes, when given.")
    buyer_email = serializers.CharField(allow_null=True)
    buyer_name = serializers.CharField(allow_null=True)
    affiliate = serializers.CharField(allow_null=True, help_text="The affiliate's username, for a hotlink sale.")
    affiliate_code = serializers.CharField(allow_null=True)
    subscription = serializers.CharField(allow_null=True, help_text="Subscriber code, for a subscription charge.")
    recurrence_number = serializers.IntegerField(allow_null=True, help_text="1 for a subscription's first charge.")
    billet = BilletSerializer(allow_null=True)
    pix = PixSerializer(allow_null=True)
    refusal_reason = serializers.CharField(allow_null=True, help_text="Why the card was refused.")
    ordered_at = serializers.DateTimeField()
    approved_at = serializers.DateTimeField(allow_null=True)
    payment_due_at = serializers.DateTimeField(allow_null=True, help_text="The billet's due date, or the PIX expiry.")
    warranty_until = serializers.DateTimeField(allow_null=True, help_text="The refund period's end, once approved.")
    last_event_at = serializers.DateTimeField(help_text="Nothing happens to it before this moment.")
    next = MoveSerializer(many=True, help_text="The legal moves from here (`POST .../transition`); empty when final.")


class ModuleSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    completed = serializers.BooleanField()


class MembersAreaSerializer(serializers.Serializer):
    has_access = serializers.BooleanField(help_text="The purchase is APPROVED, COMPLETED or in DISPUTE.")
    first_access_at = serializers.DateTimeField(allow_null=True)
    modules = ModuleSerializer(many=True)


class TransactionDetailSerializer(TransactionSerializer):
    timeline = EventSerializer(many=True, help_text="The events recorded for it, oldest first.")
    members_area = MembersAreaSerializer()


class TransactionPageSerializer(serializers.Serializer):
    items = TransactionSerializer(many=True)
    page_info = PageInfoSerializer()


class SubscriptionActionsSerializer(serializers.Serializer):
    renew = serializers.BooleanField()
    cancel = serializers.BooleanField()
    switch_plan = serializers.BooleanField()
    change_charge_day = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True, help_text="Why renewing is not possible now.")


class SubscriptionSerializer(serializers.Serializer):
    """A subscription as it stands (``sales.output.subscription_data``)."""

    subscriber_code = serializers.CharField()
    status = serializers.ChoiceField(choices=SubscriptionStatus.choices)
    product = serializers.IntegerField(help_text="Hotmart product id.")
    plan = serializers.CharField(
        help_text="One of the product's plans: monthly, quarterly, yearly unless its owner chose others."
    )
    previous_plan = serializers.CharField(allow_null=True)
    payment_type = serializers.ChoiceField(choices=PaymentType.choices)
    buyer_email = serializers.CharField(allow_null=True)
    charge_day = serializers.IntegerField()
    date_next_charge = serializers.DateTimeField()
    recurrence_number = serializers.IntegerField(help_text="Number of the latest charge.")
    cancelled_at = serializers.DateTimeField(allow_null=True)
    plan_switched_at = serializers.DateTimeField(allow_null=True)
    last_event_at = serializers.DateTimeField()
    actions = SubscriptionActionsSerializer(help_text="What is possible now.")


class PlanSerializer(serializers.Serializer):
    key = serializers.CharField()
    id = serializers.IntegerField()
    name = serializers.CharField()
    offer_code = serializers.CharField()
    months = serializers.IntegerField()
    price = serializers.CharField()


class SubscriptionDetailSerializer(SubscriptionSerializer):
    charges = TransactionSerializer(many=True, help_text="Its transactions, first recurrence first.")
    plans = PlanSerializer(many=True, help_text="The product's plans, for switching.")


class SubscriptionPageSerializer(serializers.Serializer):
    items = SubscriptionSerializer(many=True)
    page_info = PageInfoSerializer()


class SaleOutcomeSerializer(serializers.Serializer):
    """What a simulator action recorded: its events, your notifications, the sale as it stands after it."""

    event = EventSerializer(help_text="The (last) event recorded.")
    events = EventSerializer(many=True, help_text="Every event recorded, in order.")
    notifications = NotificationSummarySerializer(
        many=True, help_text="Your notifications created, one per active configuration of yours that wants it."
    )
    affiliate_notifications = serializers.IntegerField(
        help_text="How many notifications went to affiliates' configurations (a hotlink sale)."
    )
    transaction = TransactionSerializer(allow_null=True)
    subscription = SubscriptionSerializer(allow_null=True)
    notes = serializers.ListField(child=serializers.CharField())
