"""The Credentials page: create (secret shown once, then masked), use, and revoke API credentials."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Application

from configurations import services as configuration_services
from configurations.credentials import MASK
from tests.factories import UserFactory
from tests.pages import page_after

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(producer) -> Client:
    client = Client()
    client.force_login(producer)
    return client


def create(browser: Client, name: str = "Zapier"):
    return browser.post("/credentials/", {"name": name}, follow=True)


def shown(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert match, f"#{element_id} not on the page"
    return match.group(1)


def test_the_page_needs_a_login(db):
    response = Client().get("/credentials/")
    assert response.status_code == 302 and "login" in response["Location"]
    assert Client().post("/credentials/", {"name": "x"}).status_code == 302
    assert not Application.objects.exists()


def test_a_new_credential_is_shown_in_full_once_and_works(browser, producer):
    response = create(browser)

    assert response.status_code == 200
    html = response.content.decode()
    credential = Application.objects.get(user=producer)
    assert credential.name == "Zapier"
    client_id, secret, basic = shown(html, "new-client-id"), shown(html, "new-client-secret"), shown(html, "new-basic")
    assert client_id == credential.client_id
    assert len(secret) == 36 and basic.startswith("Basic ")
    assert response["Cache-Control"] == "no-store"

    query = urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    token = Client().post(f"/security/oauth/token?{query}", HTTP_AUTHORIZATION=basic)
    assert token.status_code == 200 and token.json()["token_type"] == "bearer"

    again = browser.get("/credentials/").content.decode()
    assert secret not in again, "the secret is shown once"
    assert basic not in again
    assert client_id in again and MASK in again
    assert 'id="new-client-secret"' not in again


def test_a_credential_needs_a_name(browser):
    page = page_after(browser.post("/credentials/", {"name": "   "}, follow=True))
    assert "This field is required." in page
    assert not Application.objects.exists()

    too_long = page_after(browser.post("/credentials/", {"name": "x" * 101}, follow=True))
    assert "at most 100 characters" in too_long and 'maxlength="100"' in too_long
    assert not Application.objects.exists()


def test_each_producer_sees_only_their_own_credentials(browser):
    other = UserFactory()
    theirs = configuration_services.api_credential_create(owner=other, name="Their robot").credential

    html = browser.get("/credentials/").content.decode()

    assert "Their robot" not in html and theirs.client_id not in html
    assert "No credentials yet" in html


def test_revoking_deletes_the_credential_and_its_tokens(browser, producer):
    new = configuration_services.api_credential_create(owner=producer, name="CI")
    query = urlencode({"grant_type": "client_credentials"})
    token = Client().post(f"/security/oauth/token?{query}", HTTP_AUTHORIZATION=new.basic).json()["access_token"]

    response = browser.post(f"/credentials/{new.credential.pk}/revoke", follow=True)

    assert response.status_code == 200
    assert "Credential &#x27;CI&#x27; revoked" in response.content.decode()
    assert not Application.objects.filter(pk=new.credential.pk).exists()
    assert not AccessToken.objects.filter(token=token).exists()
    refused = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/account")
    assert refused.status_code == 401


def test_another_producers_credential_cannot_be_revoked(browser):
    theirs = configuration_services.api_credential_create(owner=UserFactory(), name="theirs").credential

    assert browser.post(f"/credentials/{theirs.pk}/revoke").status_code == 404
    assert Application.objects.filter(pk=theirs.pk).exists()


def test_revoke_only_by_post(browser, producer):
    new = configuration_services.api_credential_create(owner=producer, name="CI")
    assert browser.get(f"/credentials/{new.credential.pk}/revoke").status_code == 405
    assert Application.objects.filter(pk=new.credential.pk).exists()


def test_the_masked_basic_value_hides_the_secret(browser, producer):
    new = configuration_services.api_credential_create(owner=producer, name="CI")

    html = browser.get("/credentials/").content.decode()

    assert new.client_secret not in html
    [masked] = re.findall(r'<code class="basic">([^<]*)</code>', html)
    assert masked.endswith(MASK) and new.basic.startswith(masked[: -len(MASK)])
