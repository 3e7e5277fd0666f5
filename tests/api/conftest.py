"""API fixtures: real credentials and real access tokens, and clients that carry them."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken
from rest_framework.test import APIClient

from configurations import services as configuration_services
from tests.factories import ProductFactory, UserFactory
from tests.sales.conftest import club, course, listener  # noqa: F401 - the simulator's fixtures, shared


def bearer_token(user, *, scope: str = "read write", expires_in: float = 3600) -> str:
    """A real access token of a real credential of ``user``, saved as the token endpoint saves them.

    The token endpoint's own tests go through it; the others need only a token.
    """
    credential = configuration_services.api_credential_create(owner=user, name="tests").credential
    token = AccessToken.objects.create(
        user=None,
        application=credential,
        token=secrets.token_urlsafe(30),
        expires=timezone.now() + timedelta(seconds=expires_in),
        scope=scope,
    )
    return token.token


def token_from_endpoint(user) -> str:
    """A new credential of ``user`` exchanged for a token at the token endpoint, as Hotmart's clients do."""
    new = configuration_services.api_credential_create(owner=user, name="from the endpoint")
    query = urlencode(
        {"grant_type": "client_credentials", "client_id": new.credential.client_id, "client_secret": new.client_secret}
    )
    response = Client().post(
        f"/security/oauth/token?{query}", content_type="application/json", HTTP_AUTHORIZATION=new.basic
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


class Api:
    """An API client for one producer: JSON in, JSON out, with its bearer token."""

    def __init__(self, user, token: str | None):
        self.user = user
        self.client = APIClient()
        if token:
            self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(self, path, params=None, **extra):
        return self.client.get(path, params or {}, **extra)

    def post(self, path, data=None, **extra):
        return self.client.post(path, data if data is not None else {}, format="json", **extra)

    def put(self, path, data, **extra):
        return self.client.put(path, data, format="json", **extra)

    def patch(self, path, data, **extra):
        return self.client.patch(path, data, format="json", **extra)

    def delete(self, path, **extra):
        return self.client.delete(path, **extra)


@pytest.fixture
def api(producer) -> Api:
    return Api(producer, bearer_token(producer))


@pytest.fixture
def other_api(db) -> Api:
    """Another producer, with a product of their own."""
    other = UserFactory()
    configuration_services.account_get_or_create(user=other)
    ProductFactory(owner=other)
    return Api(other, bearer_token(other))


def assert_error(response, status: int, *, field: str | None = None, code: str | None = None) -> dict:
    """The API's error format: JSON with code, message and field, every problem listed under ``errors``."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "field", "errors"}, body
    assert body["message"] and body["code"]
    assert body["errors"][0] == {"code": body["code"], "message": body["message"], "field": body["field"]}
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    if code is not None:
        assert code in [error["code"] for error in body["errors"]], body
    return body
