"""Every state-changing form of the dashboard acts once, however often it is sent.

Each form carries a token made when the page was drawn (``{% once_field %}``). The first POST with a token
claims it (an atomic ``SET NX`` in Redis through Django's cache, kept an hour) and acts; what it answered is
then kept under the token: where it redirected and the messages it said, or the fragment htmx asked for. A
second POST with the same token (a double-click, a reload, a retry after a lost answer) does not act again:
it waits for the first to finish and answers the same, so the browser, which shows the last answer it was
sent, lands where the first went, with its messages. The page also disables a form's buttons while it is
being sent (``static/js/dashboard.js``); this is what holds when that does not.

A POST without a token (a script, a test client) acts as before.
"""

from __future__ import annotations

import re
import secrets
import time
from functools import wraps

import redis
import structlog
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from web.dashboard.http import is_htmx

log = structlog.get_logger(__name__)

FIELD = "once"
KEEP_SECONDS = 3600  # how long a token is remembered: a replay within the hour answers what the first did
WAIT_SECONDS = 20.0  # how long a repeat waits for the first to finish before saying it is still running
POLL_SECONDS = 0.05
MAX_FRAGMENT = 64 * 1024  # an htmx answer larger than this is not kept; its repeat refreshes the page instead

_PENDING = "pending"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_KEPT_HEADERS = ("Content-Type", "HX-Trigger", "HX-Redirect", "HX-Refresh")


def new_token() -> str:
    return secrets.token_urlsafe(18)


def once_field() -> str:
    """The hidden input of a form that must act once (``autocomplete=off``: a restored page gets a new one)."""
    return format_html('<input type="hidden" name="{}" value="{}" autocomplete="off">', FIELD, new_token())


def acts_once(view):
    """Make a view's POSTs act once per form token (see the module's docstring); GETs pass through."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        token = request.POST.get(FIELD, "") if request.method == "POST" else ""
        if not (_TOKEN.fullmatch(token) and request.user.is_authenticated):
            return view(request, *args, **kwargs)
        key = f"dashboard:once:{request.user.pk}:{token}"
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                claimed = cache.add(key, _PENDING, KEEP_SECONDS)
            except (redis.RedisError, OSError) as exc:  # no Redis: act, as a form without a token would
                log.warning("once_unavailable", error=str(exc))
                return view(request, *args, **kwargs)
            if claimed:
                return _act(request, key, view, args, kwargs)
            outcome = cache.get(key)
            if outcome is None:
                continue  # the first failed and let its token go: this one acts instead
            if outcome != _PENDING:
                return _replay(request, outcome)
            if time.monotonic() > deadline:
                messages.info(request, "That form was already sent and is still being worked on; look again shortly.")
                return redirect(_back(request))
            time.sleep(POLL_SECONDS)  # the first request is still acting: its answer is what this one gives

    return wrapper


def _act(request: HttpRequest, key: str, view, args, kwargs) -> HttpResponse:
    storage = messages.get_messages(request)
    before = len(storage)
    try:
        response = view(request, *args, **kwargs)
    except BaseException:
        cache.delete(key)  # nothing to replay: a repeat may try again
        raise
    said = list(storage)[before:]
    storage.used = False  # iterating marked them shown; they are still to be shown on the next page
    outcome = _outcome(request, response, [(m.level, str(m.message), m.extra_tags) for m in said])
    cache.set(key, outcome, KEEP_SECONDS)
    return response


def _outcome(request: HttpRequest, response: HttpResponse, said: list) -> dict:
    location = response.get("Location") if response.status_code in (301, 302, 303) else None
    if location:
        return {"redirect": location, "messages": said}
    content = getattr(response, "content", b"")
    if is_htmx(request) and len(content) <= MAX_FRAGMENT:
        headers = {name: response[name] for name in _KEPT_HEADERS if response.has_header(name)}
        return {"status": response.status_code, "content": content.decode("utf-8", "replace"), "headers": headers}
    return {"redirect": _back(request), "messages": said}


def _back(request: HttpRequest) -> str:
    """The page the form was on, when it is one of ours; else the Overview."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return referer
    return "/"


def _replay(request: HttpRequest, outcome: dict) -> HttpResponse:
    if "redirect" in outcome:
        for level, text, tags in outcome.get("messages", []):
            messages.add_message(request, level, text, extra_tags=tags)
        return redirect(outcome["redirect"])
    response = HttpResponse(outcome["content"], status=outcome["status"])
    for name, value in outcome["headers"].items():
        response[name] = value
    return response
