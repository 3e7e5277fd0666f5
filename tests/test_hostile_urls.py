"""Whatever a URL holds, no page answers 500: every route that takes a value in its path (walked from the URL
configuration, so a new one is walked as soon as it exists) and every page's query string get NUL bytes, broken
UTF-8, digits that are not ASCII, and a lot of text; each answers a 4xx (or the page), never an error page."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.api.conftest import bearer_token

pytestmark = pytest.mark.django_db

HOSTILE = ["%00", "a%00b", "%C0%AF", "%FF", "%E2%80%AE", "%C2%B2", "²", "-1", "9" * 40, "x" * 3000, "%2e%2e"]
# The query parameters the pages and the API read (a new one: add it here).
QUERY_NAMES = [
    "recorded", "events", "after", "v", "cursor", "fp", "next", "configuration", "q", "status", "event_type",
    "since", "until", "is_test", "page_token", "max_results", "reveal", "name", "url", "event", "kind", "page",
]  # fmt: skip
_CONVERTER = re.compile(r"<(?:(?P<kind>[^>:]+):)?(?P<name>[^>]+)>")


def routes():
    """Every route of the site, the admin aside, as (route text, its converters)."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                yield from walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern):
                yield prefix + route

    return sorted(set(walk(get_resolver().url_patterns)))


def hostile_paths(value: str) -> list[str]:
    """Each route that takes a value in its path, with ``value`` in it (whole numbers: a real-looking 1)."""
    paths = []
    for route in routes():
        if "<" not in route or route.startswith("^") or "(?P" in route:
            continue  # regular expressions (the API's router) bound their values themselves
        path = _CONVERTER.sub(lambda m: "1" if m["kind"] == "int" else value, route)
        paths.append("/" + path)
    return paths


@pytest.fixture
def browser(producer):
    client = Client(raise_request_exception=False)
    client.force_login(producer)
    return client


@pytest.mark.parametrize("value", HOSTILE)
def test_no_route_answers_500_whatever_its_path_holds(browser, value):
    walked = hostile_paths(value)
    assert len(walked) >= 12, walked
    failed = []
    for path in walked:
        for method in ("get", "post"):
            response = getattr(browser, method)(path)
            if response.status_code >= 500:
                failed.append(f"{method.upper()} {path[:120]} answered {response.status_code}")
    assert failed == []


def plain_pages() -> list[str]:
    """Every page that takes nothing in its path; /health aside (its 503 says how the system is, not the URL)."""
    return ["/" + route for route in routes() if "<" not in route and not route.startswith(("^", "health"))]


@pytest.mark.parametrize("value", HOSTILE)
def test_no_page_answers_500_whatever_its_query_string_holds(browser, producer, value):
    query = "&".join(f"{name}={value}" for name in QUERY_NAMES)
    token = bearer_token(producer)
    api_lists = [
        "/api/v1/configurations", "/api/v1/notifications", "/api/v1/events", "/api/v1/transactions",
        "/api/v1/subscriptions", "/api/v1/products", "/api/v1/affiliations", "/api/v1/inboxes",
        "/api/v1/receiver-checks", "/api/v1/bulk-resends", "/api/v1/hooks",
    ]  # fmt: skip
    for path in plain_pages():
        response = browser.get(f"{path}?{query}", HTTP_HX_REQUEST="true")
        assert response.status_code < 500, f"GET {path}?... answered {response.status_code}"
        response = browser.get(f"{path}?{query}")
        assert response.status_code < 500, f"GET {path}?... answered {response.status_code}"
    for path in api_lists:
        response = Client().get(f"{path}?{query}", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code < 500, f"GET {path}?... answered {response.status_code}"


def test_an_inbox_records_a_nul_in_its_path_and_headers_escaped(producer):
    from inbox.models import InboxRequest
    from inbox.services import inbox_create

    inbox = inbox_create(owner=producer, name="catcher")
    response = Client().post(f"/inbox/{inbox.token}/a%00b?c=%00", data=b"{}", content_type="application/json",
                             HTTP_X_ODD="x\x00y")  # fmt: skip
    assert response.status_code == 200
    [caught] = InboxRequest.objects.filter(inbox=inbox)
    assert caught.path == "/a%00b?c=%00" and caught.headers["X-Odd"] == "x\\x00y"
