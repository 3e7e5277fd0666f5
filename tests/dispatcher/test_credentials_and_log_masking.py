"""API credentials from the command line, and secrets in URLs masked in the logs."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import pytest
from django.core.management.base import CommandError
from django.test import Client
from oauth2_provider.models import Application

from core.secrets import mask_query_secrets
from dispatcher.logging import QuerySecretsFilter
from tests.dispatcher.test_commands import run, run_json


@pytest.fixture
def demo(db):
    run("seed_demo")


def test_credentials_add_shows_the_secret_once_and_it_gets_a_token(demo):
    created = run_json("credentials", "add", "--owner", "demo", "--name", "CI pipeline")

    query = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        }
    )
    token = Client().post(f"/security/oauth/token?{query}", HTTP_AUTHORIZATION=created["basic"])
    assert token.status_code == 200

    listing = run_json("credentials", "list", "--owner", "demo")
    assert [row["client_id"] for row in listing] == [created["client_id"]]
    assert created["client_secret"] not in run("credentials", "list", "--owner", "demo", "--json")
    assert listing[0]["last_token_at"] is not None


def test_credentials_revoke_and_its_errors(demo):
    created = run_json("credentials", "add", "--owner", "demo", "--name", "CI")

    assert "Revoked credential" in run("credentials", "revoke", str(created["id"]), "--owner", "demo")
    assert not Application.objects.exists()
    with pytest.raises(CommandError, match=f"No credential {created['id']}") as caught:
        run("credentials", "revoke", str(created["id"]), "--owner", "demo")
    assert caught.value.returncode == 2
    with pytest.raises(CommandError, match="name: Give the credential a name"):
        run("credentials", "add", "--owner", "demo", "--name", "  ")


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (
            "POST /security/oauth/token?grant_type=client_credentials&client_id=abc&client_secret=9f1c-secret HTTP/1.1",
            "POST /security/oauth/token?grant_type=client_credentials&client_id=abc&client_secret=**** HTTP/1.1",
        ),
        ("/api/v1/x?access_token=zzz&q=1", "/api/v1/x?access_token=****&q=1"),
        ("/hook?hottok=abc", "/hook?hottok=****"),
        ("/api/v1/notifications?status=failed", "/api/v1/notifications?status=failed"),
    ],
)
def test_secrets_in_urls_are_masked(line, masked):
    assert mask_query_secrets(line) == masked


def test_runservers_request_lines_reach_the_console_masked():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("POST /security/oauth/token?client_secret=s3cr3t HTTP/1.1", "200", "119"),
        None,
    )
    assert QuerySecretsFilter().filter(record)
    assert "s3cr3t" not in record.getMessage()
    handlers = logging.getLogger().handlers
    assert any(isinstance(f, QuerySecretsFilter) for h in handlers for f in h.filters), "installed on the console"
