"""Forms of the history pages: the filters of the notification list, and bulk resend windows."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from catalogue.events import EventType
from history.choices import NotificationStatus
from history.selectors import NotificationFilters

_DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class HistoryFilterForm(forms.Form):
    """The History page's filters, read from the query string; every field is optional."""

    KIND_CHOICES = [("", "Real and test"), ("real", "Real only"), ("test", "Tests only")]

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *NotificationStatus.choices])
    event = forms.ChoiceField(required=False, choices=[("", "Any event"), *EventType.choices])
    configuration = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Configuration")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(
        required=False,
        max_length=254,
        label="Transaction or e-mail",
        widget=forms.TextInput(attrs={"placeholder": "HP12345678901234 or buyer@example.com", "type": "search"}),
    )
    kind = forms.ChoiceField(required=False, choices=KIND_CHOICES, label="Kind")

    def __init__(self, *args, configurations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["configuration"].choices = [("", "Any configuration")] + [(c.pk, c.name) for c in configurations]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def filters(self, **fixed) -> NotificationFilters:
        """The selector's filters from the form (none when unbound); ``fixed`` ones (a page's statuses) win."""
        data = self.cleaned_data if self.is_valid() else {}
        since, until = data.get("since"), data.get("until")
        kind = data.get("kind")
        values = {
            "status": data.get("status") or None,
            "event_type": data.get("event") or None,
            "configuration_id": data.get("configuration"),
            "since": _day_start(since) if since else None,
            "until": _day_start(until) + timedelta(days=1) - timedelta(microseconds=1) if until else None,
            "query": (data.get("q") or "").strip() or None,
            "is_test": {"real": False, "test": True}.get(kind),
            **fixed,
        }
        return NotificationFilters(**values)

    @property
    def active(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.get(name) for name in self.fields)


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class BulkResendForm(forms.Form):
    """A window of time and the statuses to resend."""

    window_start = forms.DateTimeField(label="From", widget=_DATETIME_LOCAL)
    window_end = forms.DateTimeField(label="Until", widget=_DATETIME_LOCAL)
    statuses = forms.MultipleChoiceField(
        choices=[(s, s.label) for s in (NotificationStatus.FAILED, NotificationStatus.CANCELLED)],
        widget=forms.CheckboxSelectMultiple,
        initial=["failed"],
        error_messages={"required": "Choose which notifications to resend: failed, cancelled or both."},
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and start > end:
            self.add_error("window_end", "The window ends before it starts.")
        return data
