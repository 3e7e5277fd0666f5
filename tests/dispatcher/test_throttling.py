"""Brute force is slowed down: logins lock after repeated failures, the token endpoint answers 429; and only the
one who failed is slowed down, also behind a reverse proxy (whose X-Forwarded-For is believed only from it)."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
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


# --- Behind a reverse proxy: real HTTP requests to the live server, which sees every one from 127.0.0.1 ------

PROXY = "127.0.0.1"  # every request to the live server connects from here, as behind a proxy
ATTACKER, INTEGRATION = "203.0.113.9", "198.51.100.7"


def token_request(server, client_id: str, secret: str, *, forwarded_for: str | None = None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    query = f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}"
    return requests.post(f"{server.url}/security/oauth/token?{query}", headers=headers, timeout=10)


@pytest.mark.django_db(transaction=True)
def test_behind_the_proxy_nobody_elses_failures_refuse_a_valid_credential(live_server, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    settings.API_TOKEN_FAILURE_LIMIT = 3
    owner = UserFactory()
    victim = configuration_services.api_credential_create(owner=owner, name="integration")
    bystander = configuration_services.api_credential_create(owner=owner, name="another integration")
    victim_id = victim.credential.client_id
    guesses = [token_request(live_server, victim_id, "guess", forwarded_for=ATTACKER) for _ in range(5)]
    assert [r.status_code for r in guesses] == [401, 401, 401, 429, 429]
    for _ in range(5):  # and made-up credentials
        assert token_request(live_server, str(uuid.uuid4()), "guess", forwarded_for=ATTACKER).status_code == 401

    locked = token_request(live_server, victim_id, victim.client_secret, forwarded_for=ATTACKER)
    assert locked.status_code == 429, "the attacker's guesses at this Client ID are slowed down"
    assert locked.json()["error"] == "slow_down" and int(locked.headers["Retry-After"]) > 0

    from_elsewhere = token_request(live_server, victim_id, victim.client_secret, forwarded_for=INTEGRATION)
    assert from_elsewhere.status_code == 200, "the integration itself, at its own address, gets its token"
    same_address = token_request(
        live_server, bystander.credential.client_id, bystander.client_secret, forwarded_for=ATTACKER
    )
    assert same_address.status_code == 200, "another credential is not refused for the attacker's failures"


@pytest.mark.django_db(transaction=True)
def test_a_forwarded_address_from_anyone_but_the_proxy_is_not_believed(live_server, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]  # not where the requests come from
    settings.API_TOKEN_FAILURE_LIMIT = 3
    new = configuration_services.api_credential_create(owner=UserFactory(), name="ci")
    for n in range(3):
        spoofed = f"192.0.2.{n}"
        assert token_request(live_server, new.credential.client_id, "guess", forwarded_for=spoofed).status_code == 401
    refused = token_request(live_server, new.credential.client_id, "guess", forwarded_for="192.0.2.200")
    assert refused.status_code == 429, "a made-up X-Forwarded-For does not escape the count"


def log_in_through_proxy(server, username: str, password: str, forwarded_for: str) -> requests.Response:
    session = requests.Session()
    headers = {"X-Forwarded-For": forwarded_for}
    form = session.get(f"{server.url}/login/", headers=headers, timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    return session.post(
        f"{server.url}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
        headers=headers,
        allow_redirects=False,
        timeout=10,
    )


@pytest.mark.django_db(transaction=True)
def test_behind_the_proxy_someone_elses_wrong_passwords_never_lock_a_user_out(live_server, settings, person):
    settings.TRUSTED_PROXIES = [PROXY]
    for _ in range(6):
        log_in_through_proxy(live_server, "ana", "wrong", forwarded_for=ATTACKER)
    assert log_in_through_proxy(live_server, "ana", "the right password", forwarded_for=ATTACKER).status_code == 429
    mine = log_in_through_proxy(live_server, "ana", "the right password", forwarded_for=INTEGRATION)
    assert mine.status_code == 302, "ana, from her own address, logs in"
