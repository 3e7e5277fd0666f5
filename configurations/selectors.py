"""Queries on accounts, products and configurations shared by the engine, the CLI and the pages."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q, QuerySet
from oauth2_provider.models import Application

from configurations.models import Account, Affiliation, Configuration, Product, SigningSecret


def configurations_matching(*, owner_id: int, event_type: str, product_id: int | None) -> list[Configuration]:
    """The owner's active configurations that want this event for this product, in id order."""
    scope = Q(product__isnull=True)
    if product_id is not None:
        scope |= Q(product_id=product_id)
    candidates = Configuration.objects.filter(scope, owner_id=owner_id, status=Configuration.Status.ACTIVE)
    # Event sets are small JSON lists; matching them here keeps one query that works on SQLite and PostgreSQL.
    return [configuration for configuration in candidates.order_by("id") if configuration.wants(event_type)]


def configuration_list(*, owner_id: int) -> QuerySet[Configuration]:
    return Configuration.objects.filter(owner_id=owner_id).select_related("product").order_by("name", "id")


def configuration_get(*, owner_id: int, configuration_id: int) -> Configuration | None:
    return Configuration.objects.filter(owner_id=owner_id, pk=configuration_id).select_related("product").first()


def product_list(*, owner_id: int) -> QuerySet[Product]:
    return Product.objects.filter(owner_id=owner_id).order_by("id")


def product_get(*, owner_id: int, hotmart_id: int) -> Product | None:
    return Product.objects.filter(owner_id=owner_id, hotmart_id=hotmart_id).first()


def product_get_for_configuration(*, user_id: int, hotmart_id: int) -> Product | None:
    """A product a user's configuration may be scoped to: one it owns, or one it is an affiliate of."""
    owned_or_sold = Q(owner_id=user_id) | Q(affiliations__affiliate_id=user_id)
    return Product.objects.filter(owned_or_sold, hotmart_id=hotmart_id).distinct().first()


def owner_by_username(username: str):
    return get_user_model().objects.filter(username=username).first()


def account_for_owner(*, owner_id: int) -> Account | None:
    return Account.objects.filter(user_id=owner_id).first()


def signing_secrets_active(*, configuration_id: int, now: datetime) -> list[str]:
    """The secrets that sign a POST made now, newest first."""
    return list(
        SigningSecret.objects.filter(configuration_id=configuration_id)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-created_at", "-id")
        .values_list("secret", flat=True)
    )


def signing_secret_list(*, configuration_id: int) -> list[SigningSecret]:
    return list(SigningSecret.objects.filter(configuration_id=configuration_id).order_by("-created_at", "-id"))


def hook_list(*, owner_id: int) -> QuerySet[Configuration]:
    """The owner's REST hook subscriptions: configurations created by an integration, oldest first."""
    return Configuration.objects.filter(owner_id=owner_id, created_by_integration=True).order_by("id")


def hook_get(*, owner_id: int, hook_id: int) -> Configuration | None:
    return hook_list(owner_id=owner_id).filter(pk=hook_id).first()


def api_credential_list(*, owner_id: int) -> QuerySet[Application]:
    """The owner's API credentials, newest first, each with ``last_token_at``: when a token was last issued."""
    return (
        Application.objects.filter(_credentials_of(owner_id))
        .annotate(last_token_at=Max("accesstoken__created"))
        .order_by("-created", "-id")
    )


def api_credential_get(*, owner_id: int, credential_id: int) -> Application | None:
    return Application.objects.filter(_credentials_of(owner_id), pk=credential_id).first()


def _credentials_of(owner_id: int) -> Q:
    return Q(user_id=owner_id, authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS)


def account_by_affiliate_code(code: str) -> Account | None:
    return Account.objects.select_related("user").filter(affiliate_code=(code or "").strip().upper()).first()


def affiliation_get(*, affiliate_code: str, product_id: int) -> Affiliation | None:
    """The affiliation through which ``affiliate_code`` sells this product, or None."""
    return (
        Affiliation.objects.select_related("affiliate", "affiliate__webhook_account", "product")
        .filter(
            affiliate__webhook_account__affiliate_code=(affiliate_code or "").strip().upper(), product_id=product_id
        )
        .first()
    )


def affiliation_list(
    *, producer_id: int | None = None, affiliate_id: int | None = None, product_id: int | None = None
) -> QuerySet[Affiliation]:
    """Affiliations of a producer's products, or of one affiliate, or of one product; oldest first."""
    queryset = Affiliation.objects.select_related("affiliate", "affiliate__webhook_account", "product")
    if producer_id is not None:
        queryset = queryset.filter(product__owner_id=producer_id)
    if affiliate_id is not None:
        queryset = queryset.filter(affiliate_id=affiliate_id)
    if product_id is not None:
        queryset = queryset.filter(product_id=product_id)
    return queryset.order_by("id")


def product_has_sales(*, product: Product) -> bool:
    """Whether the simulator sold it already (its ``sales`` purchases point at it): it then keeps its kind."""
    return product.purchases.exists()


def product_affiliate_counts(*, owner_id: int) -> dict[int, int]:
    """How many affiliates sell each of the owner's products: {product pk: count}."""
    rows = Affiliation.objects.filter(product__owner_id=owner_id).values("product_id").annotate(n=Count("id"))
    return {row["product_id"]: row["n"] for row in rows}


def test_product(*, owner) -> Product:
    """The product of test posts, never saved: like Hotmart's test button, id 0 and a test name."""
    return Product(
        owner=owner,
        name="Produto de teste",
        hotmart_id=0,
        ucode=uuid.UUID(int=0),
        price=Decimal("1500.00"),
        currency="BRL",
        is_subscription=True,
        support_email="suporte@example.com",
    )
