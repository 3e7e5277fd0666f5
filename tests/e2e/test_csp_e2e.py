"""The Content Security Policy in a real browser: no page's script is blocked, and the API docs render."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from configurations import services as configuration_services
from history.publishing import event_record
from tests.e2e.conftest import log_in
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def blocked_by_policy(page: Page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda msg: messages.append(msg.text) if "Content Security Policy" in msg.text else None)
    return messages


def test_the_api_docs_render_under_the_policy(page: Page, live_server):
    blocked = blocked_by_policy(page)
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_text("Get an access token (OAuth2 client credentials, Hotmart's shape)")).to_be_visible()
    assert blocked == []


def test_the_dashboards_scripts_run_under_the_policy(page: Page, live_server, seller):
    blocked = blocked_by_policy(page)
    log_in(page, live_server.url, seller.username)
    page.set_viewport_size({"width": 390, "height": 844})  # the event picker is the phone's navigation
    page.goto(f"{live_server.url}/documentation/")
    page.select_option("#event-picker", label="SWITCH_PLAN")  # the picker navigates by script
    expect(page).to_have_url(f"{live_server.url}/documentation/SWITCH_PLAN/")
    assert blocked == []


def test_the_payload_tabs_work_by_keyboard_under_the_policy(page: Page, live_server, seller):
    configuration_services.configuration_create(
        owner=seller, name="Tabs", events=["PURCHASE_APPROVED"], url="http://127.0.0.1:9/hook"
    )
    [notification] = event_record(
        owner=seller, event_type="PURCHASE_APPROVED", product=ProductFactory(owner=seller)
    ).notifications
    blocked = blocked_by_policy(page)
    log_in(page, live_server.url, seller.username)
    page.goto(f"{live_server.url}/history/{notification.pk}/")
    pretty = page.get_by_role("tab", name="Pretty JSON")
    pretty.focus()
    page.keyboard.press("ArrowRight")
    raw = page.get_by_role("tab", name="Raw body")
    expect(raw).to_be_focused()
    expect(raw).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-raw")).to_be_visible()
    expect(page.locator("#panel-pretty")).to_be_hidden()
    page.keyboard.press("ArrowLeft")
    expect(pretty).to_have_attribute("aria-selected", "true")
    page.get_by_role("tab", name="Request headers").click()
    expect(page.locator("#panel-headers")).to_be_visible()
    assert blocked == []
