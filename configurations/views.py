"""Configuration pages: the list, the form, enable/disable/remove, test posts, and the account's hottok.

Views parse the request, call one service and render; the rules live in the services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from configurations.forms import ConfigurationForm, SendTestForm
from configurations.models import Configuration
from dispatcher import services as dispatcher_services
from dispatcher.dashboard.http import is_htmx
from dispatcher.logging import mask_secret
from history import selectors as history_selectors

_OFFERS = "resend_offers"  # session key: configuration id -> the bulk resend offered after enabling it


def _owned(request, pk: int) -> Configuration:
    """The user's configuration, or 404: another producer's configuration does not exist for them."""
    configuration = configuration_selectors.configuration_get(owner_id=request.user.pk, configuration_id=pk)
    if configuration is None:
        raise Http404("No such configuration.")
    return configuration


@login_required
def configuration_list(request):
    configurations = list(configuration_selectors.configuration_list(owner_id=request.user.pk))
    latest = history_selectors.latest_status_codes(configuration_ids=[c.pk for c in configurations])
    offers = request.session.pop(_OFFERS, {})
    rows = [
        {
            "configuration": c,
            "latest": latest.get(c.pk),
            "offer": offers.get(str(c.pk)),
            "test_form": SendTestForm(initial={"event_type": c.events[0] if c.events else None}, prefix=f"t{c.pk}"),
        }
        for c in configurations
    ]
    return render(
        request,
        "configurations/list.html",
        {"rows": rows, "disabled": [c for c in configurations if not c.is_active]},
    )


@login_required
def configuration_create(request):
    """The form; ``?url=`` and ``?name=`` fill it in (the Inbox page's "create one with this URL")."""
    initial = {key: request.GET[key][:2000] for key in ("name", "url") if request.GET.get(key)}
    form = ConfigurationForm(request.POST or None, owner=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            configuration = configuration_services.configuration_create(owner=request.user, **_fields(form))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Configuration “{configuration.name}” created. Send it a test post to check.")
            return redirect("configurations:list")
    return render(request, "configurations/form.html", {"form": form, "configuration": None})


@login_required
def configuration_edit(request, pk: int):
    """Edit; saving a disabled configuration offers to enable it (the "Save and enable" button)."""
    configuration = _owned(request, pk)
    form = ConfigurationForm(request.POST or None, owner=request.user, instance=configuration)
    if request.method == "POST" and form.is_valid():
        try:
            configuration_services.configuration_update(configuration=configuration, **_fields(form))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if not configuration.is_active and request.POST.get("enable"):
                _enable(request, configuration)
                messages.success(request, f"Configuration “{configuration.name}” saved and enabled.")
            elif not configuration.is_active:
                messages.info(request, f"Configuration “{configuration.name}” saved; it stays disabled.")
            else:
                messages.success(request, f"Configuration “{configuration.name}” saved.")
            return redirect("configurations:list")
    return render(request, "configurations/form.html", {"form": form, "configuration": configuration})


def _fields(form: ConfigurationForm) -> dict:
    data = form.cleaned_data
    return {"name": data["name"], "events": data["events"], "url": data["url"], "product": data["product"]}


def _enable(request, configuration: Configuration) -> None:
    """Enable, and offer (on the list page) a bulk resend of what failed or was cancelled meanwhile."""
    configuration_services.configuration_enable(configuration=configuration)
    now = timezone.now()
    missed = history_selectors.resend_offer_window(configuration=configuration, now=now)
    if missed is not None:
        start, count = missed
        offers = request.session.get(_OFFERS, {})
        offers[str(configuration.pk)] = {"start": start.isoformat(), "end": now.isoformat(), "count": count}
        request.session[_OFFERS] = offers


@login_required
@require_POST
def configuration_enable(request, pk: int):
    configuration = _owned(request, pk)
    if configuration.is_active:
        messages.info(request, f"Configuration “{configuration.name}” is already active.")
    else:
        _enable(request, configuration)
        messages.success(request, f"Configuration “{configuration.name}” enabled: new events go to it again.")
    return redirect("configurations:list")


@login_required
def configuration_disable(request, pk: int):
    """GET: the confirmation page (the list opens it as a dialog); POST: disable, stopping what is pending."""
    configuration = _owned(request, pk)
    if request.method != "POST":
        return render(request, "configurations/confirm_disable.html", {"configuration": configuration})
    stopped = dispatcher_services.configuration_stop(configuration_id=configuration.pk, reason="Disabled by its owner.")
    if stopped is None:
        messages.info(request, f"Configuration “{configuration.name}” was already disabled.")
    else:
        tail = f"; {stopped} pending notification{'s' if stopped != 1 else ''} cancelled" if stopped else ""
        messages.success(request, f"Configuration “{configuration.name}” disabled{tail}.")
    return redirect("configurations:list")


@login_required
def configuration_remove(request, pk: int):
    """GET: the confirmation page (the list opens it as a dialog); POST: remove it, keeping its history."""
    configuration = _owned(request, pk)
    if request.method == "POST":
        name = configuration.name
        dispatcher_services.configuration_remove(configuration=configuration)
        messages.success(request, f"Configuration “{name}” removed. Its history stays in History.")
        return redirect("configurations:list")
    return render(request, "configurations/confirm_remove.html", {"configuration": configuration})


@login_required
@require_POST
def configuration_test(request, pk: int):
    """Send a test post now; htmx shows its result inline, without JavaScript the notification page does."""
    configuration = _owned(request, pk)
    form = SendTestForm(request.POST, prefix=f"t{pk}")
    if not form.is_valid():
        if is_htmx(request):
            return render(request, "history/_test_result.html", {"error": "Choose an event type."}, status=400)
        messages.error(request, "Choose an event type for the test post.")
        return redirect("configurations:list")
    notification = dispatcher_services.configuration_test_post(
        owner=request.user, configuration=configuration, event_type=form.cleaned_data["event_type"]
    )
    if is_htmx(request):
        return render(request, "history/_test_result.html", {"notification": notification})
    return redirect("history:detail", pk=notification.pk)


# --- The account's hottok (shown on the Documentation tab) ------------------------------------------------


@login_required
@never_cache
def hottok_card(request):
    """The hottok card, masked (what "Hide" swaps back in)."""
    account, _ = configuration_services.account_get_or_create(user=request.user)
    return render(request, "configurations/_hottok.html", {"account": account, "hottok": mask_secret(account.hottok)})


@login_required
@require_POST
@never_cache
def hottok_reveal(request):
    """The owner asked to see the token: the only response that carries it unmasked (never cached)."""
    account, _ = configuration_services.account_get_or_create(user=request.user)
    context = {"account": account, "hottok": account.hottok, "revealed": True}
    template = "configurations/_hottok.html" if is_htmx(request) else "configurations/hottok_revealed.html"
    return render(request, template, context)


@login_required
def hottok_regenerate(request):
    """GET: the confirmation page; POST: a new token, sent from the next attempt on (the old one stops)."""
    if request.method != "POST":
        return render(request, "configurations/confirm_regenerate.html")
    account, _ = configuration_services.account_get_or_create(user=request.user)
    configuration_services.account_hottok_regenerate(account=account)
    messages.success(
        request,
        "A new hottok was generated. Every notification sent from now on carries it: update your receiver.",
    )
    return redirect(reverse("documentation") + "#hottok")
