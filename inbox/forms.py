"""The inbox form of the dashboard: parses what the page sends; ``inbox.services`` checks the ranges and says
what is wrong under the same field names."""

from __future__ import annotations

from django import forms

from inbox.models import DEFAULT_BODY, Inbox
from inbox.services import MAX_RESPONSE_BODY

# The form's fields are the service's arguments, by the same names.
ANSWER_FIELDS = ("status_code", "response_body", "response_content_type", "delay_ms", "fail_first", "fail_status")

_WHOLE = {"invalid": "A whole number.", "required": "Give a number (0 for none)."}


class InboxForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="For you only, e.g. “flaky receiver” or “gone (410)”.",
        error_messages={"required": "Give the inbox a name."},
    )
    status_code = forms.IntegerField(
        label="Status it answers",
        initial=200,
        help_text="200 to 599; 410 rehearses a configuration disabled at once, 500 or 503 the retries.",
        error_messages={**_WHOLE, "required": "Give the HTTP status it answers, 200 to 599."},
        widget=forms.NumberInput(attrs={"min": 200, "max": 599, "inputmode": "numeric"}),
    )
    delay_ms = forms.IntegerField(
        label="Delay (milliseconds)",
        initial=0,
        help_text="How long it hangs before answering; 20000 hangs 20 s, past the dispatcher's read timeout.",
        error_messages=_WHOLE,
        widget=forms.NumberInput(attrs={"min": 0, "step": 100, "inputmode": "numeric"}),
    )
    fail_first = forms.IntegerField(
        label="Fail the first",
        initial=0,
        help_text="This many requests (counted since it was created, reset or this changed) get the fail status.",
        error_messages=_WHOLE,
        widget=forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
    )
    fail_status = forms.IntegerField(
        label="with status",
        initial=500,
        error_messages={**_WHOLE, "required": "Give the status of the failing answers, 200 to 599."},
        widget=forms.NumberInput(attrs={"min": 200, "max": 599, "inputmode": "numeric"}),
    )
    response_content_type = forms.CharField(
        label="Content type",
        initial="application/json",
        max_length=100,
        error_messages={"required": "A media type such as application/json or text/plain."},
    )
    response_body = forms.CharField(
        label="Body it answers",
        required=False,
        max_length=MAX_RESPONSE_BODY,
        error_messages={"max_length": f"At most {MAX_RESPONSE_BODY // 1024} KiB."},
        initial=DEFAULT_BODY,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
    )

    def __init__(self, *args, instance: Inbox | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": instance.name, **{f: getattr(instance, f) for f in ANSWER_FIELDS}}
        super().__init__(*args, **kwargs)
        self.instance = instance

    def values(self) -> dict:
        """What to give ``inbox_create``; for an edit, only what changed (changing fail_first restarts its
        count, so an unchanged one must not be given)."""
        data = {"name": self.cleaned_data["name"], **{f: self.cleaned_data[f] for f in ANSWER_FIELDS}}
        data["response_body"] = data["response_body"] or ""
        if self.instance is None:
            return data
        return {key: value for key, value in data.items() if getattr(self.instance, key) != value}
