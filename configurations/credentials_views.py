"""The Credentials page (/credentials/), like Hotmart's Hotconnect credentials: create and revoke API credentials.

Each credential shows its Client ID, its Client Secret and its Basic value. The secret is stored hashed, so
it is shown in full once, on the page right after it was created, and masked from then on.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from configurations import selectors, services
from configurations.credentials import MASK, basic_masked, basic_value
from configurations.services import CREDENTIAL_NAME_MAX
from web.dashboard.forms import apply_errors, form_keep, form_kept
from web.dashboard.once import acts_once

app_name = "credentials"

# The secret of a credential just created rides the session for one redirect, then is dropped.
JUST_CREATED = "credentials.just_created"


class CredentialForm(forms.Form):
    name = forms.CharField(
        max_length=CREDENTIAL_NAME_MAX,
        label="Name",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Zapier, CI pipeline", "autocomplete": "off"}),
    )


@login_required
@require_http_methods(["GET", "POST"])
@acts_once
def credentials_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = CredentialForm(request.POST)
        if form.is_valid():
            try:
                new = services.api_credential_create(owner=request.user, name=form.cleaned_data["name"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                request.session[JUST_CREATED] = {"id": new.credential.pk, "secret": new.client_secret}
                return redirect("credentials:index")
        form_keep(request, "credentials:new", form)
        return redirect("credentials:index")
    form = form_kept(request, "credentials:new", CredentialForm) or CredentialForm()
    just_created = request.session.pop(JUST_CREATED, None)
    rows = []
    for credential in selectors.api_credential_list(owner_id=request.user.pk):
        fresh = just_created is not None and just_created["id"] == credential.pk
        rows.append(
            {
                "credential": credential,
                "fresh": fresh,
                "client_secret": just_created["secret"] if fresh else MASK,
                "basic": basic_value(credential.client_id, just_created["secret"])
                if fresh
                else basic_masked(credential.client_id),
            }
        )
    context = {
        "form": form,
        "rows": rows,
        "fresh": next((row for row in rows if row["fresh"]), None),
        "token_url": request.build_absolute_uri(reverse("oauth-token")),
        "api_base": request.build_absolute_uri("/api/v1/"),
    }
    response = render(request, "credentials/index.html", context)
    response["Cache-Control"] = "no-store"  # the page may carry a secret: never keep it in a cache
    return response


@login_required
@require_POST
@acts_once
def credential_revoke(request: HttpRequest, credential_id: int) -> HttpResponse:
    credential = selectors.api_credential_get(owner_id=request.user.pk, credential_id=credential_id)
    if credential is None:
        raise Http404("No such credential.")
    name = credential.name
    services.api_credential_revoke(credential=credential)
    messages.success(request, f"Credential {name!r} revoked: its tokens no longer work.")
    return redirect("credentials:index")


urlpatterns = [
    path("", credentials_page, name="index"),
    path("<int:credential_id>/revoke", credential_revoke, name="revoke"),
]
