"""Brute force is slowed down: logins lock after repeated failures, the token endpoint answers 429."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from configurations import services as configuration_services
from tests.factories import UserFactory


@pytest.fixture
def person(db):
    user = UserFactory(username="ana")
    user.set_password("the right password")
    user.save()
    return user


def log_in(client: Client, password: str, address: str = "10.1.1.1"):
    return client.post(reverse("login"), {"username": "ana", "password": password}, REMOTE_ADDR=address, follow=False)


def test_five_wrong_passwords_lock_the_account_from_that_address_even_for_the_right_one(person):
    client = Client()
    for _ in range(4):
        assert log_in(client, "wrong").status_code == 200  # the form again, with its error
    locked = log_in(client, "wrong")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert log_in(client, "the right password").status_code == 429, "locked, even with the right password"
    # another address is not locked out
    assert log_in(Client(), "the right password", address="10.2.2.2").status_code == 302


def test_a_success_resets_the_count(person):
    client = Client()
    for _ in range(4):
        log_in(client, "wrong")
    assert log_in(client, "the right password").status_code == 302
    for _ in range(4):
        assert log_in(Client(), "wrong").status_code == 200


@override_settings(API_TOKEN_FAILURE_LIMIT=3)
def test_the_token_endpoint_answers_429_after_repeated_failures(db):
    new = configuration_services.api_credential_create(owner=UserFactory(), name="ci")
    client = Client()
    url = "/security/oauth/token?grant_type=client_credentials"

    def token(secret: str, address: str = "10.9.9.9"):
        return client.post(
            f"{url}&client_id={new.credential.client_id}&client_secret={secret}",
            content_type="application/json",
            REMOTE_ADDR=address,
        )

    for _ in range(3):
        assert token("wrong").status_code == 401
    refused = token(new.client_secret)
    assert refused.status_code == 429 and refused.json()["error"] == "slow_down"
    assert int(refused["Retry-After"]) > 0
    assert token(new.client_secret, address="10.8.8.8").status_code == 200, "other addresses are not slowed"
