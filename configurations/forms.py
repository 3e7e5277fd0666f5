"""The configuration form: parses what the page sends; the rules live in configurations.services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from configurations.events import EVENT_GROUPS, EventType
from configurations.models import Configuration, Product
from configurations.validators import validate_target_url


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
            }
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.instance = instance
        self.fields["product"].queryset = Product.objects.filter(owner=owner).order_by("name", "id")

    def clean_url(self):
        # The service checks it again on save; checking here too shows every error of the form at once.
        try:
            return validate_target_url(self.cleaned_data["url"], production=settings.DISPATCHER_MODE == "production")
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None

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
    """The event of a test post."""

    event_type = forms.ChoiceField(label="Event", choices=EventType.choices)
