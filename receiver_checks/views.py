"""Receiver check pages: ask for a check (of a configuration, or of a bare URL), and its live report card.

Views parse the request, call one service or selector and render. The report polls its own URL with the
fingerprint of what it shows (``web.dashboard.http``): while nothing changed the answer is 204.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from configurations import selectors as configuration_selectors
from receiver_checks import selectors, services
from receiver_checks.forms import StartForm, new_key
from web.dashboard.forms import apply_errors
from web.dashboard.http import fingerprint, is_htmx, live_url, unchanged


@login_required
def check_list(request):
    """The producer's latest checks, and the form that checks a bare URL."""
    return _list(request, StartForm(initial={"idempotency_key": new_key()}))


def _list(request, form: StartForm, *, status: int = 200):
    runs = selectors.receiver_check_list(owner_id=request.user.pk, limit=50)
    rows = [{"run": run, "progress": selectors.receiver_check_progress(run)} for run in runs]
    return render(request, "receiver_checks/list.html", {"rows": rows, "form": form}, status=status)


@login_required
@require_POST
def check_start(request):
    """Start a check and show its report; the same form posted twice (same key) shows the same check."""
    form = StartForm(request.POST)
    if not form.is_valid():
        return _list(request, form, status=400)
    data = form.cleaned_data
    configuration = None
    if data["configuration"]:
        configuration = configuration_selectors.configuration_get(
            owner_id=request.user.pk, configuration_id=data["configuration"]
        )
        if configuration is None:
            raise Http404("No such configuration.")
    try:
        run, created = services.receiver_check_start(
            owner=request.user,
            configuration=configuration,
            url=None if configuration else data["url"],
            payload_version=None if configuration else data["payload_version"] or None,
            idempotency_key=data["idempotency_key"],
        )
    except ValidationError as exc:
        apply_errors(form, exc)
        return _list(request, form, status=400)
    if not created:
        messages.info(request, f"Receiver check #{run.pk} of this receiver was already asked for: here it is.")
    return redirect("receiver_checks:detail", pk=run.pk)


@login_required
def check_detail(request, pk: int):
    """The report card: each check's grade as it comes in, what was sent and came back, why, how to fix."""
    run = selectors.receiver_check_get(owner_id=request.user.pk, check_id=pk)
    if run is None:
        raise Http404("No such receiver check.")
    results = list(run.results.all())
    progress = selectors.receiver_check_progress(run, results)
    print_ = fingerprint(progress.status, run.grade, [(r.key, r.grade) for r in results])
    if unchanged(request, print_):
        return HttpResponse(status=204)
    context = {
        "run": run,
        "results": results,
        "progress": progress,
        "live": not progress.finished,
        "live_url": live_url(request, print_),
        "again_key": new_key(),
    }
    template = "receiver_checks/_report.html" if is_htmx(request) else "receiver_checks/detail.html"
    return render(request, template, context)
