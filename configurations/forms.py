"""The configuration form: parses what the page sends; the rules live in configurations.services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from catalogue.events import EVENT_GROUPS, PURCHASE_EVENTS, EventType, PayloadVersion
from catalogue.plans import PLAN_PERIODS, derived_price
from configurations.models import Configuration, Product
from configurations.services import PRICE_MAX, PRODUCT_ID_MAX, PRODUCT_NAME_MAX, WARRANTY_DAYS_MAX
from configurations.validators import validate_target_url

DISABLE_REASON_MAX = 500  # as the API's


class ConfigurationForm(forms.Form):
    """Name, events (grouped checkboxes), scope (all products or one of the owner's) and URL."""

    SCOPE_ALL = "all"
    SCOPE_PRODUCT = "product"

    name = forms.CharField(
        max_length=100,
        help_text="For you only, e.g. “Members area” or “CRM”.",
        error_messages={"required": "Give the configuration a name."},
    )
    events = forms.MultipleChoiceField(
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )
    scope = forms.ChoiceField(
        choices=[(SCOPE_ALL, "All my products"), (SCOPE_PRODUCT, "One product")],
        widget=forms.RadioSelect,
        initial=SCOPE_ALL,
    )
    product = forms.ModelChoiceField(
        queryset=Product.objects.none(),
        required=False,
        empty_label="Choose a product…",
        error_messages={"invalid_choice": "Choose one of your products."},
    )
    payload_version = forms.ChoiceField(
        label="Payload version",
        choices=PayloadVersion.choices,
        initial=PayloadVersion.V2,
        required=False,  # left out: 2.0.0 for a new configuration, unchanged for an edit
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose 2.0.0 or 1.0."},
    )
    url = forms.CharField(
        label="URL",
        max_length=2000,
        help_text="Where the POSTs go, e.g. https://example.com/webhooks/hotmart.",
        error_messages={"required": "Enter the URL that should receive the notifications."},
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/hotmart", "spellcheck": "false"}),
    )

    def __init__(self, *args, owner, instance: Configuration | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "events": list(instance.events),
                "scope": self.SCOPE_PRODUCT if instance.product_id else self.SCOPE_ALL,
                "product": instance.product_id,
                "url": instance.url,
                "payload_version": instance.payload_version,
            }
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.instance = instance
        self.fields["product"].queryset = Product.objects.filter(owner=owner).order_by("name", "id")

    def clean_url(self):
        # The service checks it again on save; checking here too shows every error of the form at once.
        try:
            return validate_target_url(self.cleaned_data["url"])
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None

    def clean_payload_version(self):
        chosen = self.cleaned_data.get("payload_version")
        return chosen or (self.instance.payload_version if self.instance else PayloadVersion.V2)

    def clean(self):
        data = super().clean()
        if data.get("scope") == self.SCOPE_PRODUCT and not data.get("product") and "product" not in self.errors:
            self.add_error("product", "Choose the product, or send notifications for all your products.")
        if data.get("scope") != self.SCOPE_PRODUCT:
            data["product"] = None
        return data

    def event_groups(self):
        """The events checkboxes grouped as the dashboard shows them: (group, [bound checkbox, ...])."""
        by_value = {str(choice.data["value"]): choice for choice in self["events"]}
        return [(group, [by_value[event.value] for event in events]) for group, events in EVENT_GROUPS.items()]


class SendTestForm(forms.Form):
    """The event of a test post: the configuration's own events first, the others marked as not subscribed (a
    test post sends any of them; the legacy 1.0 postback has purchase events only)."""

    event_type = forms.ChoiceField(label="Event", choices=EventType.choices)

    def __init__(self, *args, configuration: Configuration | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if configuration is None:
            return
        possible = [
            e for e in EventType.values if configuration.payload_version != PayloadVersion.V1 or e in PURCHASE_EVENTS
        ]
        own = [(e, e) for e in possible if e in configuration.events]
        others = [(e, f"{e} (not subscribed)") for e in possible if e not in configuration.events]
        choices = [("Its events", own)] if own else []
        if others:
            choices.append(("Not subscribed: sent only as this test", others))
        self.fields["event_type"].choices = choices
        if own:
            self.fields["event_type"].initial = own[0][0]


class DisableForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=DISABLE_REASON_MAX,
        help_text="Optional; shown with it while it is disabled.",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "e.g. Receiver down for maintenance"}),
    )

    def reason_text(self) -> str:
        return self.cleaned_data["reason"].strip() or "Disabled by its owner."


# --- Products ---------------------------------------------------------------------------------------------


class ProductForm(forms.Form):
    """A product: name, price, currency, warranty, and for a subscription product the plans it is sold in."""

    name = forms.CharField(max_length=PRODUCT_NAME_MAX, error_messages={"required": "Give the product a name."})
    price = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        max_value=PRICE_MAX,
        initial="97.00",
        help_text="A subscription product's monthly price: plans without a price of their own follow it.",
        error_messages={"required": "Give the price, e.g. 97.00.", "invalid": "A price, e.g. 97.00."},
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    currency = forms.CharField(
        max_length=3,
        initial="BRL",
        help_text="ISO 4217, e.g. BRL or USD.",
        error_messages={"required": "The currency is a 3-letter ISO code, e.g. BRL."},
    )
    warranty_days = forms.IntegerField(
        label="Warranty (days)",
        min_value=0,
        max_value=WARRANTY_DAYS_MAX,
        initial=7,
        help_text="How long the buyer may ask for a refund; a purchase completes when it ends.",
        error_messages={"required": "Give the warranty in days (0 for none)."},
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    is_subscription = forms.BooleanField(required=False, label="Sold by subscription")
    hotmart_id = forms.IntegerField(
        label="Product id",
        required=False,
        min_value=1,
        max_value=PRODUCT_ID_MAX,
        help_text="The id payloads carry; left empty, a free one is chosen.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, instance: Product | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            chosen = {entry["key"]: entry.get("price") for entry in instance.plans}
            kwargs["initial"] = {
                "name": instance.name,
                "price": instance.price,
                "currency": instance.currency,
                "warranty_days": instance.warranty_days,
                "is_subscription": instance.is_subscription,
                **{f"plan_{key}": key in chosen for key in PLAN_PERIODS},
                **{f"plan_{key}_price": chosen.get(key) for key in PLAN_PERIODS},
            }
            if not chosen:  # the three plans every product has until its owner chooses
                kwargs["initial"].update({f"plan_{key}": True for key in ("monthly", "quarterly", "yearly")})
        super().__init__(*args, **kwargs)
        if instance is not None:
            del self.fields["hotmart_id"]  # an id never changes: payloads already carry it
        for key, period in PLAN_PERIODS.items():
            self.fields[f"plan_{key}"] = forms.BooleanField(required=False, label=period.label)
            self.fields[f"plan_{key}_price"] = forms.DecimalField(
                required=False,
                max_digits=12,
                decimal_places=2,
                min_value=0,
                max_value=PRICE_MAX,
                label=f"Price every {period.months} month{'s' if period.months > 1 else ''}",
                error_messages={"invalid": "A price, e.g. 97.00."},
                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
            )
        if instance is None and not self.is_bound:
            for key in ("monthly", "quarterly", "yearly"):
                self.fields[f"plan_{key}"].initial = True

    def clean(self):
        data = super().clean()
        if data.get("is_subscription") and not any(data.get(f"plan_{key}") for key in PLAN_PERIODS):
            self.add_error(None, "Choose at least one plan for a subscription product.")
        return data

    def plan_rows(self):
        """(period, checkbox, price field, the price it follows when left empty) for the template."""
        price = self["price"].value() or (self.instance.price if self.instance else "97.00")
        rows = []
        for key, period in PLAN_PERIODS.items():
            try:
                follows = derived_price(price, key)
            except (ArithmeticError, ValueError):  # what was typed is not a price: the field says so
                follows = None
            rows.append((period, self[f"plan_{key}"], self[f"plan_{key}_price"], follows))
        return rows

    def values(self) -> dict:
        """The arguments of ``product_create`` / ``product_update``."""
        data = self.cleaned_data
        values = {
            "name": data["name"],
            "price": data["price"],
            "currency": data["currency"],
            "warranty_days": data["warranty_days"],
            "is_subscription": data["is_subscription"],
            "plans": [
                {"key": key, "price": data.get(f"plan_{key}_price")}
                for key in PLAN_PERIODS
                if data.get("is_subscription") and data.get(f"plan_{key}")
            ],
        }
        if "hotmart_id" in self.fields:
            values["hotmart_id"] = data.get("hotmart_id")
        return values


# --- Affiliates -------------------------------------------------------------------------------------------


class AffiliateForm(forms.Form):
    """An affiliate for one of the producer's products: an existing user, or a new account made for it."""

    username = forms.CharField(
        max_length=150,
        help_text="An existing user, or the username of a new account made for the affiliate.",
        error_messages={"required": "Give the affiliate's username."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    product = forms.ModelChoiceField(
        queryset=Product.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of your products.", "required": "Choose a product."},
    )
    commission_percent = forms.DecimalField(
        label="Commission (%)",
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=100,
        initial=50,
        help_text="The affiliate's share of each sale through its hotlink.",
        error_messages={"required": "Give the commission in percent, e.g. 40."},
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    name = forms.CharField(max_length=150, required=False, label="Name (a new account)")
    email = forms.EmailField(max_length=254, required=False, label="E-mail (a new account)")

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(owner=owner).order_by("name", "id")


class SharingForm(forms.Form):
    affiliates_see_buyer_data = forms.BooleanField(
        required=False, label="Affiliates see the buyer's data (and the billet and PIX codes)"
    )
