"""Template helpers of the receiver check: its buttons and form, anywhere in the dashboard, and grade colours."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from receiver_checks.choices import Grade
from receiver_checks.forms import StartForm, new_key

register = template.Library()

_TONES = {
    Grade.PASS: "ok",
    Grade.WARN: "client",
    Grade.FAIL: "error",
    Grade.SKIP: "neutral",
    Grade.PENDING: "pending",
    "": "neutral",
}


@register.filter
def grade_tone(grade: str) -> str:
    """The badge colour of a grade: pass green, warn amber, fail red."""
    return _TONES.get(grade, "neutral")


@register.inclusion_tag("receiver_checks/_check_button.html", takes_context=True)
def check_receiver_button(context, configuration):
    """The *Check receiver* button of a configuration, with a fresh idempotency key (a double click runs one)."""
    return {"configuration": configuration, "key": new_key(), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("receiver_checks/_url_form.html", takes_context=True)
def check_receiver_form(context, form=None):
    """The form checking a bare URL with the producer's hottok (the Simulator, the Receiver checks page)."""
    return {"form": form or StartForm(initial={"idempotency_key": new_key()}), "csrf_token": context.get("csrf_token")}


@register.filter
def ticks(text: str):
    """The report's texts mark code with backticks (`id`), as the API and the command line show them: here,
    escaped, with each marked part in <code>."""
    parts = escape(text).split("`")
    if len(parts) % 2 == 0:  # an unmatched backtick: leave the text as it is
        return escape(text)
    return mark_safe("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))
