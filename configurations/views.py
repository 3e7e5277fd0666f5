"""Configuration pages: the list (with the REST hooks integrations made), the form, enable/disable/remove, the
resend offered after enabling, test posts, and the account's hottok.

Views parse the request, call one service and render; the rules live in the services. Every POST answers with
a redirect (a form with errors is shown again by the page it redirects to) and acts once per form token.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from configurations.forms import ConfigurationForm, DisableForm, SendTestForm
from configurations.models import Configuration
from core.secrets import mask_secret
from history import publishing
from history import selectors as history_selectors
from web.dashboard.forms import form_keep, form_kept
from web.dashboard.http import is_htmx
from web.dashboard.once import acts_once


def _owned(request, pk: int) -> Configuration:
    """The user's configuration, or 404: another producer's configuration does not exist for them."""
    configuration = configuration_selectors.configuration_get(owner_id=request.user.pk, configuration_id=pk)
    if configuration is None:
        raise Http404("No such configuration.")
    return configuration


def _row(configuration: Configuration, latest: dict) -> dict:
    return {
        "configuration": configuration,
        "latest": latest.get(configuration.pk),
        "offer": history_selectors.resend_offer_pending(configuration=configuration),
        "test_form": SendTestForm(configuration=configuration, prefix=f"t{configuration.pk}"),
        "disable_form": DisableForm(auto_id=f"id_disable_{configuration.pk}_%s"),
    }


@login_required
def configuration_list(request):
    """The owner's configurations, then the REST hooks integrations subscribed through the API."""
    configurations = list(configuration_selectors.configuration_list(owner_id=request.user.pk))
    latest = history_selectors.latest_status_codes(configuration_ids=[c.pk for c in configurations])
    rows = [_row(c, latest) for c in configurations if not c.created_by_integration]
    hooks = [_row(c, latest) for c in configurations if c.created_by_integration]
    return render(
        request,
        "configurations/list.html",
        {"rows": rows, "hooks": hooks, "disabled": [c for c in configurations if not c.is_active]},
    )


def _form_page(request, configuration: Configuration | None):
    """The configuration form: the one a redirect brought back with its errors, or a fresh one."""
    key = f"configurations:form:{configuration.pk if configuration else 'new'}"
    kept = form_kept(request, key, ConfigurationForm, owner=request.user, instance=configuration)
    if kept is None and configuration is None:
        # ?url= and ?name= fill it in (the Inbox page's "create one with this URL").
        initial = {name: request.GET[name][:2000] for name in ("name", "url") if request.GET.get(name)}
        kept = ConfigurationForm(owner=request.user, initial=initial)
    form = kept or ConfigurationForm(owner=request.user, instance=configuration)
    return render(request, "configurations/form.html", {"form": form, "configuration": configuration})


def _form_errors(request, form: ConfigurationForm, configuration: Configuration | None):
    form_keep(request, f"configurations:form:{configuration.pk if configuration else 'new'}", form)
    return redirect(request.get_full_path())


@login_required
@acts_once
def configuration_create(request):
    if request.method != "POST":
        return _form_page(request, None)
    form = ConfigurationForm(request.POST, owner=request.user)
    if form.is_valid():
        try:
            configuration = configuration_services.configuration_create(owner=request.user, **_fields(form))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Configuration “{configuration.name}” created. Send it a test post to check.")
            return redirect("configurations:list")
    return _form_errors(request, form, None)


@login_required
@acts_once
def configuration_edit(request, pk: int):
    """Edit; saving a disabled configuration offers to enable it (the "Save and enable" button)."""
    configuration = _owned(request, pk)
    if request.method != "POST":
        return _form_page(request, configuration)
    form = ConfigurationForm(request.POST, owner=request.user, instance=configuration)
    if form.is_valid():
        try:
            configuration_services.configuration_update(configuration=configuration, **_fields(form))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if not configuration.is_active and request.POST.get("enable"):
                publishing.configuration_reenable(configuration=configuration)
                messages.success(request, f"Configuration “{configuration.name}” saved and enabled.")
            elif not configuration.is_active:
                messages.info(request, f"Configuration “{configuration.name}” saved; it stays disabled.")
            else:
                messages.success(request, f"Configuration “{configuration.name}” saved.")
            return redirect("configurations:list")
    return _form_errors(request, form, configuration)


def _fields(form: ConfigurationForm) -> dict:
    data = form.cleaned_data
    return {key: data[key] for key in ("name", "events", "url", "product", "payload_version")}


@login_required
@require_POST
@acts_once
def configuration_enable(request, pk: int):
    """Enable it; what failed or was cancelled meanwhile is offered for a bulk resend on the list."""
    configuration = _owned(request, pk)
    if configuration.is_active:
        messages.info(request, f"Configuration “{configuration.name}” is already active.")
    else:
        publishing.configuration_reenable(configuration=configuration)
        messages.success(request, f"Configuration “{configuration.name}” enabled: new events go to it again.")
    return redirect(f"{reverse('configurations:list')}#configuration-{configuration.pk}")


@login_required
@require_POST
@acts_once
def resend_offer_dismiss(request, pk: int):
    """ "Not now": the resend offered after enabling goes away (a bulk resend can still be started by hand)."""
    configuration = _owned(request, pk)
    if configuration_services.configuration_resend_offer_clear(configuration=configuration):
        messages.info(request, f"No resend for “{configuration.name}”. Bulk resend can still send them later.")
    return redirect(f"{reverse('configurations:list')}#configuration-{configuration.pk}")


@login_required
@acts_once
def configuration_disable(request, pk: int):
    """GET: the confirmation page (the list opens it as a dialog); POST: disable, with the reason given,
    stopping what is pending."""
    configuration = _owned(request, pk)
    key = f"configurations:disable:{configuration.pk}"
    if request.method != "POST":
        form = form_kept(request, key, DisableForm) or DisableForm()
        return render(request, "configurations/confirm_disable.html", {"configuration": configuration, "form": form})
    form = DisableForm(request.POST)
    if not form.is_valid():
        form_keep(request, key, form)
        return redirect("configurations:disable", pk=configuration.pk)
    reason = form.reason_text()
    stopped = publishing.configuration_stop(configuration_id=configuration.pk, reason=reason)
    if stopped is None:
        messages.info(request, f"Configuration “{configuration.name}” was already disabled.")
    else:
        tail = f"; {stopped} pending notification{'s' if stopped != 1 else ''} cancelled" if stopped else ""
        messages.success(request, f"Configuration “{configuration.name}” disabled{tail}.")
    return redirect("configurations:list")


@login_required
@acts_once
def configuration_remove(request, pk: int):
    """GET: the confirmation page (the list opens it as a dialog); POST: remove it, keeping its history."""
    configuration = _owned(request, pk)
    if request.method == "POST":
        name = configuration.name
        publishing.configuration_remove(configuration=configuration)
        messages.success(request, f"Configuration “{name}” removed. Its history stays in History.")
        return redirect("configurations:list")
    return render(request, "configurations/confirm_remove.html", {"configuration": configuration})


@login_required
@require_POST
@acts_once
def configuration_test(request, pk: int):
    """Send a test post now; htmx shows its result inline, without JavaScript the notification page does."""
    configuration = _owned(request, pk)
    form = SendTestForm(request.POST, configuration=configuration, prefix=f"t{pk}")
    if not form.is_valid():
        error = form.errors["event_type"][0] if "event_type" in form.errors else "Choose an event type."
        if is_htmx(request):
            return render(request, "history/_test_result.html", {"error": error}, status=400)
        messages.error(request, f"Test post not sent: {error}")
        return redirect("configurations:list")
    try:
        notification = publishing.configuration_test_post(
            owner=request.user, configuration=configuration, event_type=form.cleaned_data["event_type"]
        )
    except ValidationError as exc:
        if is_htmx(request):
            return render(request, "history/_test_result.html", {"error": exc.messages[0]}, status=400)
        messages.error(request, f"Test post not sent: {exc.messages[0]}")
        return redirect("configurations:list")
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
@acts_once
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
    return redirect("documentation")  # the message and the hottok card are both at the top
