"""The OpenAPI contract: generated from the code, valid, browsable, and kept by the live app.

A property-based run (schemathesis) drives every operation of the schema against the real WSGI application,
authenticated with a real token from the token endpoint, and finds no 500 and no answer that breaks the
schema, for data the schema allows and for data it forbids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from configurations import services as configuration_services
from configurations.services import affiliate_register, affiliation_create, configuration_create
from dispatcher.wsgi import application
from history.publishing import bulk_resend_start, configuration_test_post, event_record
from inbox.services import inbox_create
from sales.models import Subscription
from sales.services import member_first_access, transaction_create
from tests.api.conftest import token_from_endpoint
from tests.factories import ProductFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class World:
    """One of everything a producer can have, each in a state that lets every action on it succeed."""

    configuration: object
    hook: object
    notification: object
    job: object
    sale: str  # an approved card purchase: refund it, enter its members area
    member: str  # an approved purchase whose buyer entered the members area
    subscriber_code: str  # an active subscription
    inbox: object  # with a caught request


def world_of(producer, product) -> World:
    configuration = configuration_create(
        owner=producer, name="receiver", events=["PURCHASE_APPROVED"], url="http://127.0.0.1:9/hook"
    )
    hook = configuration_services.hook_subscribe(owner=producer, target_url="https://example.com/z", event="order")
    [notification, _] = event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product).notifications
    configuration_test_post(owner=producer, configuration=configuration, event_type="SWITCH_PLAN")
    job = bulk_resend_start(
        owner=producer,
        configuration=configuration,
        window_start=timezone.now() - timedelta(days=1),
        window_end=timezone.now(),
    )
    sale = transaction_create(owner=producer, product=product, coupon_code="C", src="s").purchase.transaction
    member = transaction_create(owner=producer, product=product).purchase.transaction
    member_first_access(owner=producer, transaction=member)
    transaction_create(owner=producer, product=product, payment_type="pix")
    club = ProductFactory(owner=producer, is_subscription=True)
    subscriber_code = transaction_create(owner=producer, product=club).subscription.subscriber_code
    affiliation_create(affiliate=affiliate_register(username="affiliate"), product=product)
    inbox = inbox_create(owner=producer, name="catcher")
    Client().post(f"/inbox/{inbox.token}/", {"hottok": "secret"}, content_type="application/json")
    return World(configuration, hook, notification, job, sale, member, subscriber_code, inbox)


@pytest.fixture
def contract_token(producer, product):
    """A real token, for a producer who has one of everything: lists answer items, not only empty pages."""
    world_of(producer, product)
    return token_from_endpoint(producer)


def in_test_transaction(app):
    """The WSGI app as Django's own test client runs it: the request's start and end must not close the
    database connection, which holds the test's transaction (and the data it made)."""

    def wsgi(environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = app(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return wsgi


# Loaded from the live app when the tests are collected: the schema view reads no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", in_test_transaction(application))


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_live_app_keeps_its_contract(case, contract_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {contract_token}"}, checks=CHECKS)


@pytest.mark.django_db
def test_the_schema_is_valid_openapi_3_and_documents_every_resource():
    from drf_spectacular.validation import validate_schema

    response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    document = response.json()
    validate_schema(document)
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    for path in [
        "/security/oauth/token",
        "/api/v1/configurations",
        "/api/v1/configurations/{id}",
        "/api/v1/configurations/{id}/enable",
        "/api/v1/configurations/{id}/disable",
        "/api/v1/configurations/{id}/test",
        "/api/v1/products",
        "/api/v1/events",
        "/api/v1/notifications",
        "/api/v1/notifications/{id}",
        "/api/v1/notifications/{id}/resend",
        "/api/v1/bulk-resends",
        "/api/v1/bulk-resends/{id}",
        "/api/v1/account",
        "/api/v1/account/regenerate-hottok",
        "/api/v1/hooks",
        "/api/v1/hooks/{id}",
        "/api/v1/transactions",
        "/api/v1/transactions/{transaction}",
        "/api/v1/transactions/{transaction}/transition",
        "/api/v1/transactions/{transaction}/first-access",
        "/api/v1/transactions/{transaction}/complete-module",
        "/api/v1/subscriptions",
        "/api/v1/subscriptions/{subscriber_code}",
        "/api/v1/subscriptions/{subscriber_code}/renew",
        "/api/v1/subscriptions/{subscriber_code}/cancel",
        "/api/v1/subscriptions/{subscriber_code}/switch-plan",
        "/api/v1/subscriptions/{subscriber_code}/charge-day",
        "/api/v1/cart-abandonments",
        "/api/v1/affiliations",
        "/api/v1/inboxes",
        "/api/v1/inboxes/{id}",
        "/api/v1/inboxes/{id}/reset",
        "/api/v1/inboxes/{id}/requests",
    ]:
        assert path in paths, path
    assert document["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == (
        "/security/oauth/token"
    )
    create = document["paths"]["/api/v1/configurations"]["post"]
    assert {"201", "400", "401", "403"} <= set(create["responses"])
    error = create["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    assert error == "#/components/schemas/Error"


@pytest.mark.django_db
def test_the_browsable_docs_are_served_without_any_cdn():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html and '<script src="/api/docs/?script=">' in html
    assert "cdn.jsdelivr.net" not in html, "the docs must work offline"
    # The page's script is a file of its own (the Content Security Policy allows no inline script); it
    # points Swagger UI at the schema.
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200 and "javascript" in script["Content-Type"]
    assert "/api/schema/" in script.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/configurations/{id}", "GET"),
        ("/api/v1/configurations/{id}", "PATCH"),
        ("/api/v1/configurations/{id}/disable", "POST"),
        ("/api/v1/configurations/{id}/enable", "POST"),
        ("/api/v1/configurations/{id}/test", "POST"),
        ("/api/v1/notifications/{id}", "GET"),
        ("/api/v1/notifications/{id}/resend", "POST"),
        ("/api/v1/bulk-resends/{id}", "GET"),
        ("/api/v1/hooks/{id}", "GET"),
        ("/api/v1/hooks/{id}", "DELETE"),
        ("/api/v1/configurations/{id}", "DELETE"),
        ("/api/v1/transactions", "GET"),
        ("/api/v1/transactions", "POST"),
        ("/api/v1/transactions/{transaction}", "GET"),
        ("/api/v1/transactions/{transaction}/transition", "POST"),
        ("/api/v1/transactions/{transaction}/first-access", "POST"),
        ("/api/v1/transactions/{transaction}/complete-module", "POST"),
        ("/api/v1/subscriptions", "GET"),
        ("/api/v1/subscriptions/{subscriber_code}", "GET"),
        ("/api/v1/subscriptions/{subscriber_code}/renew", "POST"),
        ("/api/v1/subscriptions/{subscriber_code}/cancel", "POST"),
        ("/api/v1/subscriptions/{subscriber_code}/switch-plan", "POST"),
        ("/api/v1/subscriptions/{subscriber_code}/charge-day", "POST"),
        ("/api/v1/cart-abandonments", "POST"),
        ("/api/v1/affiliations", "GET"),
        ("/api/v1/account", "PATCH"),
        ("/api/v1/inboxes", "GET"),
        ("/api/v1/inboxes/{id}", "GET"),
        ("/api/v1/inboxes/{id}", "PATCH"),
        ("/api/v1/inboxes/{id}/reset", "POST"),
        ("/api/v1/inboxes/{id}/requests", "GET"),
        ("/api/v1/inboxes/{id}", "DELETE"),
    ],
)
def test_answers_about_real_objects_keep_the_contract(producer, product, path, method):
    """Generated ids rarely name a real object; these cases do, so the 2xx answers are checked too."""
    token = token_from_endpoint(producer)
    world = world_of(producer, product)
    ids = {
        "configurations": world.configuration.pk,
        "notifications": world.notification.pk,
        "bulk-resends": world.job.pk,
        "hooks": world.hook.pk,
        "inboxes": world.inbox.pk,
    }
    resource = path.split("/")[3]
    parameters = {
        "{id}": {"id": ids.get(resource)},
        "{transaction}": {"transaction": world.member if "complete-module" in path else world.sale},
        "{subscriber_code}": {"subscriber_code": world.subscriber_code},
    }
    path_parameters = next((value for key, value in parameters.items() if key in path), {})
    charge_day = 3 if Subscription.objects.get().charge_day != 3 else 4  # another day than today's
    bodies = {
        ("/api/v1/configurations/{id}", "PATCH"): {"name": "renamed", "payload_version": "1.0"},
        ("/api/v1/configurations/{id}/test", "POST"): {"event_type": "PURCHASE_APPROVED"},
        ("/api/v1/transactions", "POST"): {"payment_type": "billet", "buyer_email": "ana@example.com"},
        ("/api/v1/transactions/{transaction}/transition", "POST"): {"to": "refunded"},
        ("/api/v1/subscriptions/{subscriber_code}/switch-plan", "POST"): {"plan": "yearly"},
        ("/api/v1/subscriptions/{subscriber_code}/charge-day", "POST"): {"day": charge_day},
        ("/api/v1/cart-abandonments", "POST"): {"buyer_email": "cart@example.com"},
        ("/api/v1/account", "PATCH"): {"affiliates_see_buyer_data": True},
        ("/api/v1/inboxes/{id}", "PATCH"): {"status_code": 503, "fail_first": 2},
    }
    body = bodies.get((path, method))
    extra = {"body": body} if body is not None else {}
    case = schema[path][method].Case(path_parameters=path_parameters, **extra)

    response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    assert 200 <= response.status_code < 300, response.text
    if method == "GET" and path.endswith(("/transactions", "/subscriptions", "/affiliations", "/requests")):
        assert response.json()["items"], "a list of real objects"
