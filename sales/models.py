"""Simulated sale facts: transactions (purchases) and subscriptions, and where each stands in its lifecycle.

Events (``history.Event``) report what happened to them; these rows say where they are now, so that only
legal moves are offered (``sales.lifecycle``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from configurations.models import Product
from sales.lifecycle import PaymentType, PurchaseStatus, SubscriptionStatus


class Subscription(models.Model):
    """A subscriber of a subscription product: its plan, charge day and next charge; renewed by purchases."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="subscriptions")
    subscriber_code = models.CharField(max_length=20, unique=True)
    hotmart_id = models.PositiveBigIntegerField(unique=True, help_text="What payloads call subscription.id.")
    status = models.CharField(max_length=30, choices=SubscriptionStatus.choices, default=SubscriptionStatus.STARTED)
    plan_key = models.CharField(max_length=20, help_text="monthly, quarterly or yearly (see catalogue.facts).")
    previous_plan_key = models.CharField(max_length=20, blank=True)
    payment_type = models.CharField(max_length=20, choices=PaymentType.choices)
    charge_day = models.PositiveSmallIntegerField(help_text="Day of the month the subscriber is charged.")
    date_next_charge = models.DateTimeField()
    recurrence_number = models.PositiveIntegerField(default=1, help_text="Number of the latest charge.")
    buyer = models.JSONField(default=dict, help_text="The subscriber, as the payloads show it.")
    affiliate = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    affiliate_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    plan_switched_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(help_text="The story's clock: nothing happens to it before this moment.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="subscription_owner_created")]

    def __str__(self) -> str:
        return f"subscription {self.subscriber_code} ({self.status})"


class Purchase(models.Model):
    """A transaction (``HP...``): one sale, or one charge of a subscription, moving through its lifecycle."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="purchases")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="purchases")
    transaction = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=20, choices=PurchaseStatus.choices)
    payment_type = models.CharField(max_length=20, choices=PaymentType.choices)
    installments = models.PositiveSmallIntegerField(default=1)
    buyer = models.JSONField(default=dict, help_text="The buyer, as the payloads show it.")
    price = models.DecimalField(max_digits=12, decimal_places=2)
    full_price = models.DecimalField(max_digits=12, decimal_places=2, help_text="With installment interest.")
    currency = models.CharField(max_length=3, default="BRL")
    offer_code = models.CharField(max_length=20)
    coupon_code = models.CharField(max_length=50, blank=True)
    origin = models.JSONField(default=dict, blank=True, help_text="Tracking codes of the link: src, sck, xcod.")
    affiliate = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    affiliate_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.CASCADE, related_name="purchases"
    )
    recurrence_number = models.PositiveIntegerField(null=True, blank=True)
    billet = models.JSONField(default=dict, blank=True, help_text="url and barcode of a billet purchase.")
    pix = models.JSONField(default=dict, blank=True, help_text="code, qrcode and expiration of a PIX purchase.")
    refusal_reason = models.CharField(max_length=255, blank=True)
    ordered_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)
    payment_due_at = models.DateTimeField(null=True, blank=True, help_text="Billet due date or PIX expiry.")
    warranty_until = models.DateTimeField(null=True, blank=True, help_text="Set when approved.")
    first_access_at = models.DateTimeField(null=True, blank=True)
    modules_completed = models.JSONField(default=list, blank=True)
    last_event_at = models.DateTimeField(help_text="The story's clock: nothing happens to it before this moment.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="purchase_owner_created"),
            models.Index(fields=["subscription", "recurrence_number"], name="purchase_recurrence"),
        ]

    def __str__(self) -> str:
        return f"{self.transaction} ({self.status})"

    @property
    def is_renewal(self) -> bool:
        return bool(self.recurrence_number and self.recurrence_number > 1)
