"""Producers' accounts (hottok), products and webhook configurations."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models

from catalogue.events import EventType, PayloadVersion


class Account(models.Model):
    """A webhook account (a producer's or an affiliate's): the hottok sent in ``X-HOTMART-HOTTOK`` and its facts."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_account")
    hottok = models.CharField(max_length=64, unique=True)
    producer_name = models.CharField(max_length=200, blank=True)
    document = models.CharField(max_length=20, blank=True)
    legal_nature = models.CharField(max_length=40, default="Pessoa Física")
    # The code payloads name an affiliate by (``affiliates[].affiliate_code``); set when it first affiliates.
    affiliate_code = models.CharField(max_length=20, unique=True, null=True, blank=True)
    # The producer's choice: do its affiliates' notifications carry the buyer's data (and billet/PIX codes)?
    affiliates_see_buyer_data = models.BooleanField(default=False)
    hottok_changed_at = models.DateTimeField(auto_now_add=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"account of {self.user}"


class Product(models.Model):
    """A product a producer sells; ``hotmart_id`` and ``ucode`` are what payloads call ``id`` and ``ucode``."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=200)
    hotmart_id = models.PositiveBigIntegerField(unique=True)
    ucode = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("97.00"))
    currency = models.CharField(max_length=3, default="BRL")
    is_subscription = models.BooleanField(default=False)
    is_physical = models.BooleanField(default=False)
    warranty_days = models.PositiveSmallIntegerField(default=7)
    support_email = models.EmailField(blank=True)
    # A subscription product's plans, as its owner set them: [{"key": "monthly", "price": "97.00"}, ...] (keys
    # from catalogue.facts.PLAN_PERIODS). Empty: the three plans derived from ``price`` (catalogue.facts).
    plans = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hotmart_id})"


class Affiliation(models.Model):
    """An affiliate's right to sell a producer's product through its hotlink, for a share of each sale."""

    affiliate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="affiliations")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="affiliations")
    commission_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("50.00"))
    hotlink = models.CharField(max_length=20, unique=True, help_text="The code of the affiliate's link.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["affiliate", "product"], name="affiliation_unique_per_product"),
        ]

    def __str__(self) -> str:
        return f"{self.affiliate} sells {self.product}"


class Configuration(models.Model):
    """A named rule ("segmentation"): which events, all products or one, which URL; active or disabled."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="configurations")
    name = models.CharField(max_length=100)
    events = models.JSONField(default=list, help_text="Event types, e.g. ['PURCHASE_APPROVED'].")
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="configurations",
        help_text="Empty: all of the owner's products.",
    )
    url = models.URLField(max_length=2000)
    payload_version = models.CharField(max_length=5, choices=PayloadVersion.choices, default=PayloadVersion.V2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    disabled_reason = models.TextField(blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Set by the first failed automatic attempt after a success, cleared by the next success: while set, its
    # deliveries go to the retries lane, and after DISPATCHER_FAILING_DISABLE_AFTER it is disabled.
    failing_since = models.DateTimeField(null=True, blank=True)
    # True while it has signing secrets: each POST then carries Standard Webhooks signature headers.
    signing_enabled = models.BooleanField(default=False)
    # Made by an automation tool through the REST hooks API (POST /api/v1/hooks), not by a person: it is
    # removed, not just disabled, when its target answers 410 Gone, as the REST Hooks pattern expects.
    created_by_integration = models.BooleanField(default=False)
    hook_event = models.CharField(
        max_length=40, blank=True, help_text="The REST hook event it was subscribed for, e.g. 'order'."
    )
    # Set when it is enabled again after missing notifications: the window of those that failed or were
    # cancelled meanwhile, offered for a bulk resend until its owner resends them or declines.
    resend_offer_since = models.DateTimeField(null=True, blank=True)
    resend_offer_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="configuration_name_unique_per_owner"),
        ]
        indexes = [models.Index(fields=["owner", "status"], name="configuration_owner_status")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def scope_label(self) -> str:
        return self.product.name if self.product_id else "All products"

    def disable_deadline(self, disable_after_seconds: float):
        """When it will be disabled if no delivery succeeds before; None while it is not failing."""
        if self.failing_since is None or not self.is_active:
            return None
        from datetime import timedelta

        return self.failing_since + timedelta(seconds=disable_after_seconds)

    def wants(self, event_type: str) -> bool:
        return event_type in self.events


class SigningSecret(models.Model):
    """A Standard Webhooks signing secret (``whsec_...``). After a rotation the old one keeps signing until
    ``expires_at``, so receivers can switch over without missing a notification."""

    configuration = models.ForeignKey(Configuration, on_delete=models.CASCADE, related_name="signing_secrets")
    secret = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"signing secret of configuration {self.configuration_id}"


__all__ = ["Account", "Affiliation", "Configuration", "EventType", "PayloadVersion", "Product", "SigningSecret"]
