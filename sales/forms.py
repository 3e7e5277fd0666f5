"""Forms of the Simulator page: they parse what the page sends; the rules (and their messages) live in
``sales.services`` and ``history.publishing``, whose ValidationErrors land under the same field names."""

from __future__ import annotations

from django import forms

from catalogue.events import EventType
from catalogue.plans import PLAN_PERIODS
from configurations.models import Product
from sales.lifecycle import CANCELLED_BY, PaymentType
from sales.services import MAX_INSTALLMENTS

# Every period a plan can have; a product sells those its owner chose (catalogue.plans), the service
# refuses the others with a message naming them.
PLAN_CHOICES = [(key, key.capitalize()) for key in PLAN_PERIODS]
_PLAN_INVALID = f"Choose {', '.join(PLAN_PERIODS)}."


class _ProductField(forms.ModelChoiceField):
    def label_from_instance(self, product: Product) -> str:
        kind = "subscription" if product.is_subscription else f"{product.currency} {product.price}"
        return f"{product.name} ({kind})"


def _owned_products(owner):
    return Product.objects.filter(owner=owner).order_by("name", "id")


class _OwnerForm(forms.Form):
    """A form whose product select lists the owner's products only (another's is "not one of the choices")."""

    def __init__(self, *args, owner, affiliate_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        if "product" in self.fields:
            self.fields["product"].queryset = _owned_products(owner)
        if "affiliate_code" in self.fields:
            self.fields["affiliate_code"].choices = [("", "None: a direct sale"), *affiliate_choices]


class PurchaseForm(_OwnerForm):
    """A buyer checks out: ``sales.services.transaction_create``."""

    product = _ProductField(
        queryset=Product.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of your products.", "required": "Choose a product."},
    )
    payment_type = forms.ChoiceField(
        label="Payment",
        choices=PaymentType.choices,
        initial=PaymentType.CREDIT_CARD,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose credit card, billet or PIX."},
    )
    installments = forms.TypedChoiceField(
        choices=[(n, f"{n}x") for n in range(1, MAX_INSTALLMENTS + 1)],
        coerce=int,
        initial=1,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": f"Installments go from 1 to {MAX_INSTALLMENTS}."},
    )
    refused = forms.BooleanField(required=False, label="The card is refused (PURCHASE_CANCELED)")
    plan = forms.ChoiceField(
        choices=[("", "Its first plan (default)"), *PLAN_CHOICES],
        required=False,
        error_messages={"invalid_choice": _PLAN_INVALID},
    )
    buyer_name = forms.CharField(required=False, max_length=255, label="Buyer name")
    buyer_email = forms.CharField(required=False, max_length=254, label="Buyer e-mail", widget=forms.EmailInput)
    affiliate_code = forms.ChoiceField(
        required=False,
        label="Affiliate",
        error_messages={"invalid_choice": "Choose one of your affiliates."},
    )
    coupon_code = forms.CharField(required=False, max_length=50, label="Coupon (10% off)")
    src = forms.CharField(required=False, max_length=255, label="src")
    sck = forms.CharField(required=False, max_length=255, label="sck")
    xcod = forms.CharField(required=False, max_length=255, label="xcod")

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "product": data["product"],
            "payment_type": data["payment_type"],
            "refused": data["refused"],
            "installments": data["installments"],
            "plan": data["plan"] or None,
            "buyer_name": data["buyer_name"].strip() or None,
            "buyer_email": data["buyer_email"].strip() or None,
            "affiliate_code": data["affiliate_code"] or None,
            "coupon_code": data["coupon_code"].strip(),
            "src": data["src"].strip(),
            "sck": data["sck"].strip(),
            "xcod": data["xcod"].strip(),
        }


class CartForm(_OwnerForm):
    """A visitor leaves the checkout: ``sales.services.cart_abandon``."""

    product = _ProductField(
        queryset=Product.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of your products.", "required": "Choose a product."},
    )
    buyer_name = forms.CharField(required=False, max_length=255, label="Visitor name")
    buyer_email = forms.CharField(required=False, max_length=254, label="Visitor e-mail", widget=forms.EmailInput)
    buyer_phone = forms.CharField(
        required=False, max_length=40, label="Phone (digits)", widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    affiliate_code = forms.ChoiceField(
        required=False, label="Affiliate", error_messages={"invalid_choice": "Choose one of your affiliates."}
    )

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "product": data["product"],
            "buyer_name": data["buyer_name"].strip() or None,
            "buyer_email": data["buyer_email"].strip() or None,
            "buyer_phone": data["buyer_phone"].strip() or None,
            "affiliate_code": data["affiliate_code"] or None,
        }


class SampleForm(_OwnerForm):
    """A one-off sample of any event with made-up facts: ``history.publishing.event_record``."""

    event_type = forms.ChoiceField(
        label="Event", choices=EventType.choices, error_messages={"invalid_choice": "Choose one of the 15 events."}
    )
    product = _ProductField(
        queryset=Product.objects.none(),
        required=False,
        empty_label="Default (your first fitting product)",
        error_messages={"invalid_choice": "Choose one of your products."},
    )
    buyer_email = forms.CharField(required=False, max_length=254, label="Buyer e-mail", widget=forms.EmailInput)

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "event_type": data["event_type"],
            "product": data["product"],
            "buyer_email": data["buyer_email"].strip() or None,
        }


class MoveForm(forms.Form):
    """A button of a transaction: where it goes now (``to``), or where it goes at the move's real moment
    (``schedule``); ``sales.services.transaction_transition`` checks the move."""

    to = forms.CharField(max_length=40, required=False)
    schedule = forms.CharField(max_length=40, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("to") and not data.get("schedule"):
            self.add_error("to", "Choose where the transaction goes.")
        elif data.get("to") and data.get("schedule"):
            self.add_error("to", "Choose one move: now or scheduled.")
        return data

    def service_arguments(self) -> dict:
        scheduled = bool(self.cleaned_data["schedule"])
        return {"to": self.cleaned_data["schedule"] or self.cleaned_data["to"], "schedule": scheduled}


class ModuleForm(forms.Form):
    """The module the buyer completes; empty: the next one."""

    module = forms.CharField(required=False, max_length=100)


class RenewForm(forms.Form):
    refused = forms.BooleanField(required=False, label="The card is refused (PURCHASE_DELAYED)")
    schedule = forms.BooleanField(required=False, label="On its charge date: dated and sent then")


class CancelForm(forms.Form):
    by = forms.ChoiceField(
        label="Cancelled by",
        choices=[(key, key.capitalize()) for key in CANCELLED_BY],
        initial="customer",
        error_messages={"invalid_choice": "Choose customer, seller or admin."},
    )


class SwitchPlanForm(forms.Form):
    plan = forms.ChoiceField(
        label="New plan",
        choices=PLAN_CHOICES,
        error_messages={"invalid_choice": _PLAN_INVALID},
    )


class ChargeDayForm(forms.Form):
    day = forms.IntegerField(
        label="New charge day",
        error_messages={"required": "Give a day of the month, 1 to 31.", "invalid": "A day of the month, 1 to 31."},
    )
