"""Small request helpers shared by the dashboard's views."""

from __future__ import annotations

import hashlib
import json

from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme


def is_htmx(request: HttpRequest) -> bool:
    """True for a request htmx made: it wants a fragment of the page, not the whole page."""
    return request.headers.get("HX-Request") == "true"


def safe_next(request: HttpRequest, default: str) -> str:
    """The ``next`` the form asked to go back to, if it is a page of this site; else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return default


# --- Live parts -------------------------------------------------------------------------------------------
# A live part polls its own URL with the fingerprint of what it shows (``fp``); while nothing changed the
# answer is 204 and htmx redraws nothing, so focus, open details and scroll stay.

REFRESH_EVENT = "dashboard:refresh"  # htmx event: live regions fetch themselves again at once
ANNOUNCE_EVENT = "dashboard:announce"  # htmx event: dashboard.js says its value to screen readers


def fingerprint(*parts) -> str:
    """A short digest of what a live part shows."""
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


def unchanged(request: HttpRequest, print_: str) -> bool:
    """True when htmx polls with the fingerprint the part still has: answer 204."""
    return is_htmx(request) and request.GET.get("fp") == print_


def live_url(request: HttpRequest, print_: str) -> str:
    """This request's URL with ``fp`` set: what the live part polls."""
    query = request.GET.copy()
    query["fp"] = print_
    return f"{request.path}?{query.urlencode()}"


def announce(response: HttpResponse, text: str, *, refresh: bool = False) -> HttpResponse:
    """Tell the page (through htmx's HX-Trigger) to say ``text``, and to refresh its live parts if asked."""
    events: dict = {ANNOUNCE_EVENT: {"value": text}}
    if refresh:
        events = {REFRESH_EVENT: None, **events}
    response["HX-Trigger"] = json.dumps(events)
    return response
