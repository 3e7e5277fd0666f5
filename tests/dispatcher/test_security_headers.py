"""Every page carries a strict Content Security Policy and the other security headers, and no page relies on
inline script (which that policy would block)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

PAGES = [
    "overview", "configurations:list", "configurations:create", "history:list", "history:sent", "history:pending",
    "history:bulk_list", "simulator:index", "inboxes:list", "credentials:index", "documentation",
]  # fmt: skip
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


@pytest.mark.parametrize("name", PAGES)
def test_pages_have_a_strict_policy_and_no_inline_script(web, name):
    response = web.get(reverse(name))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    page = response.content.decode()
    assert not INLINE_SCRIPT.search(page), INLINE_SCRIPT.search(page)
    assert not INLINE_HANDLER.search(page.replace("hx-on", "")), INLINE_HANDLER.search(page)


def test_no_template_has_inline_script_or_handlers():
    """Pages with an object in them (a notification, a transaction, an inbox) included: every template."""
    from pathlib import Path

    from django.conf import settings

    offenders = []
    for folder in settings.TEMPLATES[0]["DIRS"]:
        for template in Path(folder).rglob("*.html"):
            text = template.read_text()
            if INLINE_SCRIPT.search(text) or INLINE_HANDLER.search(text.replace("hx-on", "")):
                offenders.append(str(template))
    assert offenders == []


def test_the_login_page_and_the_api_docs_need_no_inline_script(client):
    for url in (reverse("login"), "/api/docs/"):
        response = client.get(url)
        assert response.status_code == 200
        assert not INLINE_SCRIPT.search(response.content.decode()), url
        assert "Content-Security-Policy" in response
