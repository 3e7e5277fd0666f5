"""History pages: the notification list (all, sent, pending), a notification's detail, resends, bulk resends.

Lists read ``history.selectors.notification_search`` (keyset pages, never a COUNT of the table). Live parts
are polled by htmx with the fingerprint of what the page shows: an unchanged fingerprint answers 204, so
nothing is redrawn (focus, open details and scroll stay) until something really changes.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from configurations import selectors as configuration_selectors
from core import hotmart
from core.numbers import whole_number
from core.secrets import masked_headers
from history import publishing
from history import selectors as history_selectors
from history.choices import OPEN_STATUSES, NotificationStatus
from history.display import payload_shown
from history.forms import BulkResendForm, HistoryFilterForm
from web.dashboard.forms import form_keep, form_kept
from web.dashboard.http import announce, is_htmx, safe_next
from web.dashboard.http import fingerprint as _fingerprint
from web.dashboard.http import live_url as _live_url
from web.dashboard.http import unchanged as _unchanged
from web.dashboard.once import acts_once

PAGE_SIZE = 50


# --- Lists ------------------------------------------------------------------------------------------------

_PAGES = {
    "all": {
        "title": "History",
        "intro": "Every notification, newest first. Filter, open one to see what was sent and answered, or resend.",
        "statuses": (),
    },
    "sent": {
        "title": "Sent posts",
        "intro": "Notifications your URL acknowledged with a 2xx, newest first.",
        "statuses": (NotificationStatus.DELIVERED,),
    },
    "pending": {
        "title": "Pending posts",
        "intro": "Notifications still waiting for an attempt: new ones, and failed ones with a retry scheduled.",
        "statuses": tuple(OPEN_STATUSES),
    },
}


def _history(request, page_name: str):
    spec = _PAGES[page_name]
    owner_id = request.user.pk
    configurations = list(configuration_selectors.configuration_list(owner_id=owner_id))
    form = HistoryFilterForm(request.GET or None, configurations=configurations)
    cursor = request.GET.get("cursor") or None
    items, next_cursor, error = [], None, None
    if form.is_bound and not form.is_valid():
        error = "Some filters are not valid; correct them to see notifications."
    else:
        try:
            page = history_selectors.notification_search(
                owner_id=owner_id,
                filters=form.filters(statuses=spec["statuses"]),
                cursor=cursor,
                limit=PAGE_SIZE,
            )
            items, next_cursor = page.items, page.next_cursor
        except ValidationError as exc:
            error = exc.message_dict.get("cursor", exc.messages)[0]
    waiting = [n for n in items if n.status in OPEN_STATUSES or n.resend_requested_at]
    fingerprint = _fingerprint(
        [(n.pk, n.status, n.attempt_count, n.last_status_code, bool(n.resend_requested_at)) for n in items],
        next_cursor,
    )
    if _unchanged(request, fingerprint):
        return HttpResponse(status=204)
    base = request.GET.copy()
    base.pop("cursor", None)
    base.pop("fp", None)
    context = {
        "page_name": page_name,
        "title": spec["title"],
        "intro": spec["intro"],
        "form": form,
        "items": items,
        "next_cursor": next_cursor,
        "first_page": cursor is None,
        "error": error,
        "filter_query": base.urlencode(),
        # The first page also shows new notifications as they arrive; later pages only follow their own rows.
        "live": not error and (cursor is None or bool(waiting)),
        "waiting_count": len(waiting),
        "live_url": _live_url(request, fingerprint),
        "has_configurations": bool(configurations),
    }
    template = "history/_table.html" if is_htmx(request) else "history/list.html"
    return render(request, template, context)


@login_required
def history_list(request):
    return _history(request, "all")


@login_required
def sent_list(request):
    return _history(request, "sent")


@login_required
def pending_list(request):
    return _history(request, "pending")


# --- One notification -------------------------------------------------------------------------------------


def _owned_notification(request, pk: int):
    notification = history_selectors.notification_get(notification_id=pk, owner_id=request.user.pk)
    if notification is None:
        raise Http404("No such notification.")
    return notification


@login_required
def notification_detail(request, pk: int):
    """The sent payload (pretty and raw, hottok masked), request headers, and every attempt; live while open."""
    notification = _owned_notification(request, pk)
    attempts = list(notification.attempts.all())
    fingerprint = _fingerprint(
        notification.status, notification.attempt_count, bool(notification.resend_requested_at), len(attempts)
    )
    if _unchanged(request, fingerprint):
        return HttpResponse(status=204)
    context = {
        "notification": notification,
        "attempts": list(reversed(attempts)),
        "live": notification.status in OPEN_STATUSES or bool(notification.resend_requested_at),
        "live_url": _live_url(request, fingerprint),
    }
    if is_htmx(request):
        return render(request, "history/_delivery.html", context)
    if attempts:
        headers = attempts[-1].request_headers  # stored masked
        headers_note = f"As sent with attempt {attempts[-1].number}."
    else:
        account = configuration_selectors.account_for_owner(owner_id=notification.owner_id)
        headers = masked_headers(
            hotmart.build_headers(
                hottok=account.hottok if account else "",
                content_type=notification.content_type,
                delivery_id=notification.pk,
                attempt=1,
                event_id=str(notification.event.uuid),
            )
        )
        headers_note = "What the first attempt will send."
    context.update(payload=payload_shown(notification.payload), headers=headers, headers_note=headers_note)
    return render(request, "history/detail.html", context)


@login_required
def notification_result(request, pk: int):
    """The inline result of a test post: polled until its one attempt is in."""
    notification = _owned_notification(request, pk)
    attempts = list(notification.attempts.all())
    context = {"notification": notification, "attempt": attempts[-1] if attempts else None}
    return render(request, "history/_test_result.html", context)


@login_required
@require_POST
@acts_once
def notification_resend(request, pk: int):
    """Ask for one more, manual, attempt now; htmx pages refresh their live parts, others are redirected."""
    _owned_notification(request, pk)  # another producer's notification does not exist for this one
    try:
        notification = publishing.notification_resend(owner=request.user, notification_id=pk)
    except ValidationError as exc:  # e.g. its configuration was removed: nowhere to send it
        message = exc.messages[0]
        if is_htmx(request):
            return _announce(message, status=200)
        messages.error(request, message)
        return redirect(safe_next(request, reverse("history:detail", args=[pk])))
    text = f"Resend of notification #{notification.pk} queued."
    if is_htmx(request):
        return _announce(text)
    messages.success(request, text)
    return redirect(safe_next(request, reverse("history:detail", args=[pk])))


def _announce(text: str, *, status: int = 204) -> HttpResponse:
    """An empty answer telling the page (through htmx's HX-Trigger) to refresh and to say ``text``."""
    return announce(HttpResponse(status=status), text, refresh=True)


# --- Bulk resends -----------------------------------------------------------------------------------------


@login_required
@acts_once
def bulk_resend_new(request):
    """Choose a configuration's window and statuses, then start the background job (also the resend offered
    on the Configurations page after enabling: it posts here)."""
    configuration_id = whole_number(request.POST.get("configuration") or request.GET.get("configuration"))
    configuration = None
    if configuration_id is not None:
        configuration = configuration_selectors.configuration_get(
            owner_id=request.user.pk, configuration_id=configuration_id
        )
    if configuration is None:
        raise Http404("No such configuration.")
    key = f"history:bulk:{configuration.pk}"
    if request.method != "POST":
        now = timezone.localtime()
        initial = {"window_start": now - timedelta(hours=24), "window_end": now, "statuses": ["failed"]}
        form = form_kept(request, key, BulkResendForm) or BulkResendForm(initial=initial)
        jobs = history_selectors.bulk_resend_list(owner_id=request.user.pk, configuration_id=configuration.pk, limit=5)
        context = {"form": form, "configuration": configuration, "jobs": jobs}
        return render(request, "history/bulk_resend_form.html", context)
    form = BulkResendForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            job = publishing.bulk_resend_start(
                owner=request.user,
                configuration=configuration,
                window_start=data["window_start"],
                window_end=data["window_end"],
                statuses=tuple(data["statuses"]),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if job.total:
                plural = "s" if job.total != 1 else ""
                messages.success(request, f"Bulk resend started: {job.total} notification{plural} to resend.")
            else:
                messages.info(request, "No notification matched that window and those statuses: nothing to resend.")
            return redirect("history:bulk_detail", pk=job.pk)
    form_keep(request, key, form)
    return redirect(f"{reverse('history:bulk_new')}?configuration={configuration.pk}")


@login_required
def bulk_resend_detail(request, pk: int):
    """A job's progress, polled until every resend it asked for has been attempted."""
    job = history_selectors.bulk_resend_get(owner_id=request.user.pk, job_id=pk)
    if job is None:
        raise Http404("No such bulk resend.")
    sent = history_selectors.bulk_resend_sent_count(job=job)
    finished = job.status == "done" and sent >= job.requested
    fingerprint = _fingerprint(job.status, job.requested, sent)
    if _unchanged(request, fingerprint):
        return HttpResponse(status=204)
    context = {
        "job": job,
        "sent": sent,
        "finished": finished,
        "percent_requested": round(100 * job.progress),
        "percent_sent": round(100 * sent / job.total) if job.total else 100,
        "live": not finished,
        "live_url": _live_url(request, fingerprint),
    }
    template = "history/_bulk_progress.html" if is_htmx(request) else "history/bulk_resend_detail.html"
    return render(request, template, context)


@login_required
def bulk_resend_list(request):
    jobs = history_selectors.bulk_resend_list(owner_id=request.user.pk, limit=50)
    return render(request, "history/bulk_resend_list.html", {"jobs": jobs, "page_name": "bulk"})
