"""Template helpers for deliveries: a notification's status and an HTTP code, in colour (``{% load deliveries %}``)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

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
