"""Template helpers of the dashboard: pretty JSON, forms that act once, times written one way.

How a notification's status and an HTTP code are shown is the history's (``{% load deliveries %}``)."""

from __future__ import annotations

import json

from django import template
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.timezone import localtime, now

from core.documents import NOT_JSON, parse_json
from web.dashboard import once

register = template.Library()


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
    """The hidden token that makes a state-changing form act once (``web.dashboard.once``)."""
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
