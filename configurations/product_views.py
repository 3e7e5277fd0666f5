"""The Products page (/products/): the producer's products, added and edited in the browser, with a
subscription product's plans. ``configurations.services`` (``product_create``, ``product_update``) holds the
rules; every POST answers with a redirect and acts once per form token."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from catalogue.plans import plans_for
from configurations import selectors, services
from configurations.forms import ProductForm
from configurations.models import Product
from web.dashboard.forms import apply_errors, form_keep, form_kept
from web.dashboard.once import acts_once

app_name = "products"


def _owned(request, hotmart_id: int) -> Product:
    product = selectors.product_get(owner_id=request.user.pk, hotmart_id=hotmart_id)
    if product is None:
        raise Http404("No such product.")
    return product


@login_required
def product_list(request):
    counts = selectors.product_affiliate_counts(owner_id=request.user.pk)
    rows = [
        {
            "product": product,
            "plans": plans_for(product) if product.is_subscription else [],
            "affiliates": counts.get(product.pk, 0),
        }
        for product in selectors.product_list(owner_id=request.user.pk)
    ]
    return render(request, "products/list.html", {"rows": rows})


def _lock_kind(form: ProductForm, product: Product | None) -> bool:
    """A product with sales keeps its kind: the checkbox shows it, disabled (and what is sent for it ignored)."""
    locked = product is not None and selectors.product_has_sales(product=product)
    if locked:
        form.fields["is_subscription"].disabled = True
    return locked


def _form(request, product: Product | None):
    key = f"products:form:{product.hotmart_id if product else 'new'}"
    if request.method == "POST":
        form = ProductForm(request.POST, instance=product)
        _lock_kind(form, product)
        if form.is_valid():
            try:
                if product is None:
                    product = services.product_create(owner=request.user, **form.values())
                    messages.success(request, f"Product “{product.name}” added, id {product.hotmart_id}.")
                else:
                    services.product_update(product=product, **form.values())
                    messages.success(request, f"Product “{product.name}” saved.")
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return redirect(f"{reverse('products:list')}#product-{product.hotmart_id}")
        form_keep(request, key, form)
        return redirect(request.get_full_path())
    form = form_kept(request, key, ProductForm, instance=product) or ProductForm(instance=product)
    locked = _lock_kind(form, product)
    return render(request, "products/form.html", {"form": form, "product": product, "kind_locked": locked})


@login_required
@require_http_methods(["GET", "POST"])
@acts_once
def product_create(request):
    return _form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
@acts_once
def product_edit(request, hotmart_id: int):
    return _form(request, _owned(request, hotmart_id))


urlpatterns = [
    path("", product_list, name="list"),
    path("new/", product_create, name="create"),
    path("<int:hotmart_id>/edit/", product_edit, name="edit"),
]
