"""The Inbox pages of the dashboard (/inboxes/): the producer's request catchers, their settings, and the
requests each caught, live.

The live list polls with ``after`` = the id of the newest request it shows (``inbox_requests(after_id=)``: ids
only grow, numbers restart after a reset)
and the inbox's version (its ``updated_at``, which a reset or an edit changes): nothing new answers 204; new
requests are added on top (htmx out-of-band swaps), so an opened request stays open; a reset or an edit
redraws the whole list.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from configurations import selectors as configuration_selectors
from core.numbers import whole_number
from inbox import selectors as inbox_selectors
from inbox import services as inbox_services
from inbox.conf import inbox_settings
from inbox.forms import InboxForm
from inbox.models import Inbox
from web.dashboard.forms import apply_errors, form_keep, form_kept
from web.dashboard.http import announce, is_htmx
from web.dashboard.once import acts_once

app_name = "inboxes"

SHOWN = 50  # requests listed; the inbox keeps up to INBOX_MAX_REQUESTS


def _owned(request, pk: int) -> Inbox:
    """The user's inbox, or 404: another producer's inbox does not exist for them."""
    inbox = inbox_selectors.inbox_get(owner_id=request.user.pk, inbox_id=pk)
    if inbox is None:
        raise Http404("No such inbox.")
    return inbox


def _senders(owner_id: int, url: str) -> list:
    """The owner's configurations that send to this inbox's URL."""
    return [c for c in configuration_selectors.configuration_list(owner_id=owner_id) if c.url.startswith(url)]


def _version(inbox: Inbox) -> str:
    return str(int(inbox.updated_at.timestamp() * 1_000_000))


@login_required
def inbox_list(request):
    """The owner's inboxes: URL (with a copy button), how each answers, how many requests it keeps."""
    configurations = list(configuration_selectors.configuration_list(owner_id=request.user.pk))
    rows = []
    for inbox in inbox_selectors.inbox_list(owner_id=request.user.pk):
        url = inbox_selectors.inbox_url(inbox)
        rows.append(
            {
                "inbox": inbox,
                "url": url,
                "answer": inbox_selectors.inbox_answer_text(inbox),
                "senders": [c for c in configurations if c.url.startswith(url)],
            }
        )
    return render(request, "inbox/list.html", {"rows": rows, "enabled": inbox_settings().enabled})


@login_required
@acts_once
def inbox_create(request):
    if request.method != "POST":
        form = form_kept(request, "inboxes:new", InboxForm) or InboxForm()
        return render(request, "inbox/form.html", {"form": form, "inbox": None})
    form = InboxForm(request.POST)
    if form.is_valid():
        try:
            inbox = inbox_services.inbox_create(owner=request.user, **form.values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, f"Inbox “{inbox.name}” created. Point a configuration at its URL to see what arrives."
            )
            return redirect("inboxes:detail", pk=inbox.pk)
    form_keep(request, "inboxes:new", form)
    return redirect("inboxes:create")


@login_required
@acts_once
def inbox_edit(request, pk: int):
    inbox = _owned(request, pk)
    key = f"inboxes:edit:{inbox.pk}"
    if request.method != "POST":
        form = form_kept(request, key, InboxForm, instance=inbox) or InboxForm(instance=inbox)
        return render(request, "inbox/form.html", {"form": form, "inbox": inbox})
    form = InboxForm(request.POST, instance=inbox)
    if form.is_valid():
        changes = form.values()
        try:
            if changes:
                inbox_services.inbox_update(inbox=inbox, **changes)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            note = " Its fail-first count starts again." if "fail_first" in changes else ""
            messages.success(
                request, f"Inbox “{inbox.name}” saved: it answers {inbox_selectors.inbox_answer_text(inbox)}.{note}"
            )
            return redirect("inboxes:detail", pk=inbox.pk)
    form_keep(request, key, form)
    return redirect("inboxes:edit", pk=inbox.pk)


def _live_context(inbox: Inbox, requests: list) -> dict:
    newest = requests[0].pk if requests else 0
    return {
        "inbox": inbox,
        "requests": requests,
        "poll_url": f"{reverse('inboxes:requests', args=[inbox.pk])}?after={newest}&v={_version(inbox)}",
        "shown": SHOWN,
    }


@login_required
def inbox_detail(request, pk: int):
    """One inbox: its URL, how it answers, who sends to it, and the requests it caught (live)."""
    inbox = _owned(request, pk)
    url = inbox_selectors.inbox_url(inbox)
    context = {
        **_live_context(inbox, inbox_selectors.inbox_requests(inbox_id=inbox.pk, limit=SHOWN)),
        "url": url,
        "answer": inbox_selectors.inbox_answer_text(inbox),
        "senders": _senders(request.user.pk, url),
        "enabled": inbox_settings().enabled,
        "max_requests": inbox_settings().max_requests,
    }
    return render(request, "inbox/detail.html", context)


@login_required
@require_GET
def inbox_requests_live(request, pk: int):
    """What the live list polls: 204 when nothing came, the new requests to add on top, or the whole list."""
    inbox = _owned(request, pk)
    after_id = whole_number(request.GET.get("after")) or 0
    fresh = inbox_selectors.inbox_requests(inbox_id=inbox.pk, after_id=after_id, limit=SHOWN)
    changed = request.GET.get("v") != _version(inbox)  # reset or edited since the page drew its list
    if not changed and not fresh:
        return HttpResponse(status=204)
    if changed or after_id == 0 or len(fresh) >= SHOWN:
        requests = inbox_selectors.inbox_requests(inbox_id=inbox.pk, limit=SHOWN)
        response = render(request, "inbox/_requests.html", {**_live_context(inbox, requests), "oob": True})
    else:
        response = render(request, "inbox/_requests_new.html", {**_live_context(inbox, fresh), "fresh": fresh})
    if fresh:
        newest = fresh[0]
        more = f" and {len(fresh) - 1} more" if len(fresh) > 1 else ""
        announce(response, f"New request #{newest.number}: {newest.method} answered {newest.response_status}{more}.")
    return response


@login_required
@require_GET
def inbox_request_detail(request, pk: int, request_id: int):
    """One caught request: headers and body, the hottok masked; a fragment for the live list, or a page."""
    inbox = _owned(request, pk)
    caught = inbox_selectors.inbox_request_get(owner_id=request.user.pk, request_id=request_id)
    if caught is None or caught.inbox_id != inbox.pk:
        raise Http404("No such request.")
    view = inbox_selectors.inbox_request_view(caught)
    context = {"inbox": inbox, "view": view, "caught": caught, "max_body_kib": inbox_settings().max_body_bytes // 1024}
    template = "inbox/_request_body.html" if is_htmx(request) else "inbox/request.html"
    return render(request, template, context)


@login_required
@acts_once
def inbox_reset(request, pk: int):
    """GET: the confirmation page (the pages open it as a dialog); POST: forget its requests, count from 1."""
    inbox = _owned(request, pk)
    if request.method != "POST":
        return render(request, "inbox/confirm_reset.html", {"inbox": inbox})
    deleted = inbox_services.inbox_reset(inbox=inbox)
    plural = "s" if deleted != 1 else ""
    messages.success(
        request, f"Inbox “{inbox.name}” reset: {deleted} request{plural} forgotten; it counts from 1 again."
    )
    return redirect("inboxes:detail", pk=inbox.pk)


@login_required
@acts_once
def inbox_remove(request, pk: int):
    """GET: the confirmation page; POST: delete the inbox and what it caught (its URL then answers 404)."""
    inbox = _owned(request, pk)
    if request.method != "POST":
        return render(request, "inbox/confirm_remove.html", {"inbox": inbox})
    name = inbox.name
    inbox_services.inbox_delete(inbox=inbox)
    messages.success(request, f"Inbox “{name}” removed; its URL now answers 404.")
    return redirect("inboxes:list")


urlpatterns = [
    path("", inbox_list, name="list"),
    path("new/", inbox_create, name="create"),
    path("<int:pk>/", inbox_detail, name="detail"),
    path("<int:pk>/edit/", inbox_edit, name="edit"),
    path("<int:pk>/requests/", inbox_requests_live, name="requests"),
    path("<int:pk>/requests/<int:request_id>/", inbox_request_detail, name="request"),
    path("<int:pk>/reset/", inbox_reset, name="reset"),
    path("<int:pk>/remove/", inbox_remove, name="remove"),
]
