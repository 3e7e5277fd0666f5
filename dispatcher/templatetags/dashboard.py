"""Template helpers of the dashboard: status colours and pretty JSON."""

from __future__ import annotations

import json

from django import template
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.timezone import localtime, now

from core.documents import NOT_JSON, parse_json
from dispatcher.dashboard import once
from history.choices import NO_STATUS, NotificationStatus

register = template.Library()


def code_tone(code: int | None) -> str:
    """The colour family of an HTTP status code: ok (2xx), redirect (3xx), client (4xx), error (5xx, -1)."""
    if code is None:
        return "neutral"
    if 200 <= code < 300:
        return "ok"
    if 300 <= code < 400:
        return "redirect"
    if 400 <= code < 500:
        return "client"
    return "error"


_STATUS_TONES = {
    NotificationStatus.PENDING: "pending",
    NotificationStatus.RETRYING: "client",
    NotificationStatus.DELIVERED: "ok",
    NotificationStatus.FAILED: "error",
    NotificationStatus.CANCELLED: "neutral",
}


@register.filter
def status_tone(status: str) -> str:
    return _STATUS_TONES.get(status, "neutral")


@register.simple_tag
def code_chip(code: int | None, label: str = ""):
    """An HTTP code as a coloured chip; -1 reads "-1" with a hint that no HTTP answer came."""
    if code is None:
        return format_html('<span class="chip chip--neutral">{}</span>', label or "—")
    title = "No HTTP answer (connection error or timeout)" if code == NO_STATUS else f"HTTP {code}"
    return format_html('<span class="chip chip--{}" title="{}">{}</span>', code_tone(code), title, code)


@register.filter
def pretty_json(value) -> str:
    """Indented JSON of a dict, or of a JSON text; anything else (or JSON nested too deeply) as it is."""
    if isinstance(value, str):
        document = parse_json(value)
        if document is NOT_JSON:
            return value
        value = document
    return json.dumps(value, indent=2, ensure_ascii=False)


@register.filter
def param_parts(name: str) -> tuple[str, str]:
    """``data.buyer.email`` -> (``data.buyer.``, ``email``): the documentation shows the leaf first."""
    parent, dot, leaf = name.rpartition(".")
    return (parent + dot, leaf)


@register.simple_tag
def once_field() -> str:
    """The hidden token that makes a state-changing form act once (``dispatcher.dashboard.once``)."""
    return once.once_field()


# --- Times: one format everywhere -------------------------------------------------------------------------
# "Jan 5, 2026 14:03 UTC" (with seconds where they matter), in the site's time zone (TIME_ZONE), always named.
_WHEN = "M j, Y H:i T"
_WHEN_SECONDS = "M j, Y H:i:s T"


@register.simple_tag
def when(moment, precision: str = "") -> str:
    """A moment as the dashboard writes it, in a <time> element; ``"seconds"`` adds the seconds."""
    if moment is None:
        return ""
    shown = date_format(localtime(moment), _WHEN_SECONDS if precision == "seconds" else _WHEN)
    return format_html('<time datetime="{}">{}</time>', moment.isoformat(), shown)


@register.simple_tag
def ago(moment) -> str:
    """How long ago, for recent things ("just now", "5 minutes ago"), with the moment itself as a tooltip."""
    if moment is None:
        return ""
    elapsed = now() - moment
    text = "just now" if elapsed.total_seconds() < 60 else f"{timesince(moment)} ago"
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', moment.isoformat(), date_format(localtime(moment), _WHEN), text
    )
