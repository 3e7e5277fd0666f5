"""The Affiliates page (/affiliates/): who sells which of the producer's products and for what commission, new
affiliates, and the account's setting of whether affiliates see the buyer's data (which decides whether their
notifications carry the buyer and the billet and PIX codes, as Hotmart's help article describes).

``configurations.services`` holds the rules (``affiliate_add``, ``account_buyer_data_sharing_set``); every POST
answers with a redirect and acts once per form token."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from configurations import selectors, services
from configurations.forms import AffiliateForm, SharingForm
from web.dashboard.forms import apply_errors, form_keep, form_kept
from web.dashboard.once import acts_once

app_name = "affiliates"

_ADD = "affiliates:add"


@login_required
def affiliate_list(request):
    account, _ = services.account_get_or_create(user=request.user)
    has_products = selectors.product_list(owner_id=request.user.pk).exists()
    context = {
        "account": account,
        "affiliations": selectors.affiliation_list(producer_id=request.user.pk).select_related("product__owner"),
        "selling": selectors.affiliation_list(affiliate_id=request.user.pk).select_related("product__owner"),
        "form": form_kept(request, _ADD, AffiliateForm, owner=request.user) or AffiliateForm(owner=request.user),
        "sharing_form": SharingForm(initial={"affiliates_see_buyer_data": account.affiliates_see_buyer_data}),
        "has_products": has_products,
    }
    return render(request, "affiliates/index.html", context)


@login_required
@require_POST
@acts_once
def affiliate_add(request):
    form = AffiliateForm(request.POST, owner=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            affiliation, created = services.affiliate_add(
                product=data["product"],
                username=data["username"],
                commission_percent=data["commission_percent"],
                name=data["name"],
                email=data["email"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            who = affiliation.affiliate.get_username()
            new = " (a new account, without a password: it cannot log in until one is set)" if created else ""
            messages.success(
                request,
                f"{who}{new} sells “{affiliation.product.name}” for {float(affiliation.commission_percent):g}%, "
                f"hotlink {affiliation.hotlink}.",
            )
            return redirect(f"{reverse('affiliates:list')}#affiliation-{affiliation.pk}")
    form_keep(request, _ADD, form)
    return redirect(f"{reverse('affiliates:list')}#add-affiliate")


@login_required
@require_POST
@acts_once
def sharing_set(request):
    form = SharingForm(request.POST)
    form.is_valid()  # a checkbox: anything but "on" is off
    allowed = bool(form.cleaned_data.get("affiliates_see_buyer_data"))
    account, _ = services.account_get_or_create(user=request.user)
    services.account_buyer_data_sharing_set(account=account, allowed=allowed)
    if allowed:
        messages.success(request, "Affiliates now see the buyer's data, and the billet and PIX codes, of their sales.")
    else:
        messages.success(request, "Affiliates no longer see the buyer's data: their notifications leave it out.")
    return redirect(f"{reverse('affiliates:list')}#sharing")


urlpatterns = [
    path("", affiliate_list, name="list"),
    path("add/", affiliate_add, name="add"),
    path("sharing/", sharing_set, name="sharing"),
]
