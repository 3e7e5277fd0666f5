"""The token endpoint answers like Hotmart's: POST /security/oauth/token, client credentials, bearer tokens."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from configurations import services as configuration_services
from tests.api.conftest import Api, assert_error

pytestmark = pytest.mark.django_db

TOKEN_URL = "/security/oauth/token"


@pytest.fixture
def new_credential(producer):
    return configuration_services.api_credential_create(owner=producer, name="zapier")


def hotmart_token_request(client_id, client_secret, *, basic=None, extra=None):
    """The request Hotmart's documentation shows: everything in the query string, plus the Basic header."""
    query = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        **(extra or {}),
    }
    headers = {"HTTP_AUTHORIZATION": basic} if basic else {}
    return Client().post(f"{TOKEN_URL}?{urlencode(query)}", content_type="application/json", **headers)


def test_hotmart_shaped_request_gets_a_bearer_token_in_hotmarts_shape(new_credential):
    response = hotmart_token_request(
        new_credential.credential.client_id, new_credential.client_secret, basic=new_credential.basic
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 172800, "Hotmart's tokens live 48 hours"
    assert body["scope"] == "read write"
    assert response["Cache-Control"] == "no-store"
    token = AccessToken.objects.get(token=body["access_token"])
    assert token.application_id == new_credential.credential.pk


def test_the_token_acts_as_the_credentials_owner(producer, new_credential):
    body = hotmart_token_request(
        new_credential.credential.client_id, new_credential.client_secret, basic=new_credential.basic
    ).json()

    response = Api(producer, body["access_token"]).get("/api/v1/account")

    assert response.status_code == 200
    assert response.json()["username"] == producer.username


def test_the_basic_value_is_base64_of_client_id_colon_secret(new_credential):
    expected = base64.b64encode(
        f"{new_credential.credential.client_id}:{new_credential.client_secret}".encode()
    ).decode()
    assert new_credential.basic == f"Basic {expected}"


def test_standard_oauth2_form_body_with_basic_auth_works_too(new_credential):
    response = Client().post(
        TOKEN_URL,
        "grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=new_credential.basic,
    )
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "bearer"


def test_query_credentials_without_basic_header_work(new_credential):
    response = hotmart_token_request(new_credential.credential.client_id, new_credential.client_secret)
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "case",
    ["wrong secret", "unknown client", "no credentials at all", "basic of a wrong secret"],
)
def test_wrong_credentials_answer_401_with_a_json_oauth_error(new_credential, case):
    client_id, secret = new_credential.credential.client_id, new_credential.client_secret
    if case == "wrong secret":
        response = hotmart_token_request(client_id, "not-the-secret")
    elif case == "unknown client":
        response = hotmart_token_request("00000000-0000-0000-0000-000000000000", secret)
    elif case == "no credentials at all":
        response = Client().post(f"{TOKEN_URL}?grant_type=client_credentials")
    else:
        wrong = "Basic " + base64.b64encode(f"{client_id}:nope".encode()).decode()
        response = Client().post(f"{TOKEN_URL}?grant_type=client_credentials", HTTP_AUTHORIZATION=wrong)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "invalid_client"
    assert "Client ID" in body["error_description"]
    assert not AccessToken.objects.exists()


def test_another_grant_type_is_refused(new_credential):
    response = hotmart_token_request(
        new_credential.credential.client_id, new_credential.client_secret, extra={"grant_type": "password"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "unsupported_grant_type",
        "error_description": "Only grant_type=client_credentials is supported.",
    }


@pytest.mark.parametrize("field", ["client_id", "client_secret", "scope"])
def test_an_oversized_parameter_is_refused_naming_it(new_credential, field):
    values = {"client_id": new_credential.credential.client_id, "client_secret": new_credential.client_secret}
    response = hotmart_token_request(**values, extra={field: "x" * 256}, basic=new_credential.basic)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": f"{field} is longer than 255 characters.",
    }
    assert not AccessToken.objects.exists()


def test_an_oversized_body_is_a_json_413(new_credential):
    from django.conf import settings

    body = "grant_type=client_credentials&padding=" + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = Client().post(
        TOKEN_URL, body, content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=new_credential.basic
    )
    assert response.status_code == 413
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The request body is larger than 2560 KiB; send less.",
    }
    assert not AccessToken.objects.exists()


def test_get_on_the_token_endpoint_is_a_json_405():
    response = Client().get(TOKEN_URL)
    assert response.status_code == 405
    assert response.json()["error"] == "invalid_request"
    assert "POST" in response["Allow"]


def test_a_read_scoped_token_can_read_but_not_change(producer, new_credential):
    body = hotmart_token_request(
        new_credential.credential.client_id, new_credential.client_secret, extra={"scope": "read"}
    ).json()
    assert body["scope"] == "read"
    api = Api(producer, body["access_token"])

    assert api.get("/api/v1/configurations").status_code == 200
    assert_error(api.post("/api/v1/account/regenerate-hottok"), 403, code="permission_denied")


def test_revoking_a_credential_kills_its_tokens_and_its_secret(producer, new_credential):
    body = hotmart_token_request(
        new_credential.credential.client_id, new_credential.client_secret, basic=new_credential.basic
    ).json()

    configuration_services.api_credential_revoke(credential=new_credential.credential)

    assert_error(Api(producer, body["access_token"]).get("/api/v1/account"), 401, code="invalid_token")
    again = hotmart_token_request(
        new_credential.credential.client_id, new_credential.client_secret, basic=new_credential.basic
    )
    assert again.status_code == 401


def test_an_expired_token_is_refused(producer, new_credential):
    body = hotmart_token_request(new_credential.credential.client_id, new_credential.client_secret).json()
    AccessToken.objects.filter(token=body["access_token"]).update(expires=timezone.now() - timedelta(seconds=1))

    response = Api(producer, body["access_token"]).get("/api/v1/account")

    assert_error(response, 401, code="invalid_token")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_client_secret_is_stored_hashed(new_credential):
    new_credential.credential.refresh_from_db()
    assert new_credential.client_secret not in new_credential.credential.client_secret
    assert new_credential.credential.client_secret.startswith("pbkdf2_sha256_client_secret$")


def test_expired_tokens_are_cleared_and_live_ones_kept(producer, new_credential):
    live = hotmart_token_request(new_credential.credential.client_id, new_credential.client_secret).json()
    dead = hotmart_token_request(new_credential.credential.client_id, new_credential.client_secret).json()
    AccessToken.objects.filter(token=dead["access_token"]).update(expires=timezone.now() - timedelta(seconds=1))

    assert configuration_services.api_tokens_clear_expired() == 1

    assert list(AccessToken.objects.values_list("token", flat=True)) == [live["access_token"]]
    assert Api(producer, live["access_token"]).get("/api/v1/account").status_code == 200
