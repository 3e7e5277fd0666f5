"""Factories for the models; services stay the way tests create what they are about."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from configurations.models import Account, Configuration, Product


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"producer{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Test"
    last_name = "Producer"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    user = factory.SubFactory(UserFactory)
    hottok = factory.Sequence(lambda n: f"hottok{n:034d}")
    producer_name = factory.LazyAttribute(lambda a: a.user.get_full_name())
    document = "12345678909"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Curso {n}")
    hotmart_id = factory.Sequence(lambda n: 5_000_000 + n)
    price = "1500.00"
    currency = "BRL"
    support_email = "support@example.com"


class ConfigurationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Configuration

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"config {n}")
    events = factory.LazyFunction(lambda: ["PURCHASE_APPROVED"])
    url = "http://127.0.0.1:9/webhook"
