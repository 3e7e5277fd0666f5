"""The dashboard's form for asking for a receiver check."""

from __future__ import annotations

import uuid

from django import forms

from catalogue.events import PayloadVersion
from configurations.validators import MAX_URL_LENGTH


def new_key() -> str:
    """A fresh idempotency key for a form about to be shown: submitting it twice starts one check."""
    return uuid.uuid4().hex


class StartForm(forms.Form):
    """A check of one of the producer's configurations (``configuration``), or of a bare URL (``url``)."""

    configuration = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    url = forms.CharField(
        required=False,
        max_length=MAX_URL_LENGTH,
        label="Receiver URL",
        help_text="Any URL of yours: it gets every event with your hottok, as a configuration of all 15 events "
        "would (the 9 purchase events in 1.0).",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/hotmart", "autocomplete": "url"}),
    )
    payload_version = forms.ChoiceField(
        required=False, choices=PayloadVersion.choices, initial=PayloadVersion.V2, label="Payload format"
    )
    idempotency_key = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def clean_url(self) -> str:
        return (self.cleaned_data.get("url") or "").strip()
