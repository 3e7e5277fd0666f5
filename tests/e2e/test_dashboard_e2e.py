"""The dashboard as a user clicks it: a real browser, a live server, the real worker and a real receiver."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from configurations import services as configuration_services
from configurations.models import Account, Configuration
from history.publishing import event_record
from tests.conftest import free_port
from tests.e2e.conftest import log_in
from tests.factories import ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_from_configuration_to_delivery_resend_test_post_and_auto_disable(page, live_server, stack, httpserver, seller):
    httpserver.expect_request("/hook", method="POST").respond_with_data("thanks!", status=200)
    product = ProductFactory(owner=seller)
    base = live_server.url

    # Log in; History is empty and says what to do.
    log_in(page, base, "seller")
    expect(page.get_by_role("heading", name="No history yet")).to_be_visible()

    # Create a configuration pointing at the live receiver.
    page.get_by_role("link", name="Configurations", exact=True).click()
    page.get_by_role("link", name="New configuration").first.click()
    page.get_by_label("Name").fill("My receiver")
    page.get_by_label("URL").fill(httpserver.url_for("/hook"))
    page.get_by_label("Approved purchase").check()
    page.get_by_role("button", name="Create configuration").click()
    expect(page.get_by_role("heading", name="My receiver")).to_be_visible()
    configuration = Configuration.objects.get(owner=seller)

    # A purchase happens while History is open: the 200 shows up by itself.
    page.get_by_role("link", name="History", exact=True).click()
    event_record(owner=seller, event_type="PURCHASE_APPROVED", product=product)
    row = page.locator("#history-live tbody tr").first
    expect(row.locator(".chip")).to_have_text("200")
    expect(row).to_contain_text("PURCHASE_APPROVED")
    expect(row).to_contain_text("My receiver")

    # The detail: payload, the attempt, then a resend adds a manual attempt live.
    row.get_by_role("link", name="PURCHASE_APPROVED").click()
    expect(page.get_by_role("heading", name="History of responses")).to_be_visible()
    expect(page.locator(".attempt")).to_have_count(1)
    expect(page.locator("#payload-pretty")).to_contain_text('"event": "PURCHASE_APPROVED"')
    hottok = Account.objects.get(user=seller).hottok
    assert hottok not in page.content()
    page.get_by_role("button", name="Resend").click()
    expect(page.locator(".attempt")).to_have_count(2)
    expect(page.locator(".attempt").first).to_contain_text("Manual resend")
    expect(page.locator(".attempt").first.locator(".chip")).to_have_text("200")
    assert len([r for r, _ in httpserver.log if r.path == "/hook"]) == 2

    # A test post from the configuration: the result appears inline.
    page.get_by_role("link", name="Configurations", exact=True).click()
    card = page.locator(f"#configuration-{configuration.pk}")
    card.get_by_label("Test post").select_option("SWITCH_PLAN")
    card.get_by_role("button", name="Send test").click()
    result = page.locator(f"#test-result-{configuration.pk}")
    expect(result).to_contain_text("Test post delivered")
    expect(result.locator(".chip")).to_have_text("200")
    expect(result).to_contain_text("thanks!")

    # Point it at a dead URL: 5 refused attempts disable it, and the list shows the banner.
    card.get_by_role("link", name="Edit My receiver").click()
    page.get_by_label("URL").fill(f"http://127.0.0.1:{free_port()}/hook")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("link", name="History", exact=True).click()
    event_record(owner=seller, event_type="PURCHASE_APPROVED", product=product)
    newest = page.locator("#history-live tbody tr").first
    expect(newest.locator(".chip")).to_have_text("-1", timeout=30_000)
    expect(newest).to_contain_text("failed", timeout=30_000)
    page.get_by_role("link", name="Configurations", exact=True).click()
    banner = page.locator(f"#disabled-banner-{configuration.pk}")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("“My receiver” is disabled")
    expect(banner).to_contain_text("connection refused")

    # Enabling it offers to resend what failed meanwhile; accepting shows the job's progress until done.
    banner.get_by_role("button", name="Enable").click()
    expect(page.get_by_role("button", name="Resend 1")).to_be_visible()
    page.get_by_role("button", name="Resend 1").click()
    expect(page.get_by_role("heading", name=re.compile(r"Bulk resend #\d+"))).to_be_visible()
    expect(page.locator("#bulk-live")).to_contain_text("Finished", timeout=30_000)
    expect(page.locator("#bulk-live")).to_contain_text("1 of 1 attempts made")


def test_dialogs_keyboard_and_hottok_reveal(page, live_server, seller):
    configuration = configuration_services.configuration_create(
        owner=seller, name="Keep me", events=["PURCHASE_APPROVED"], url="https://example.com/hook"
    )
    base = live_server.url
    log_in(page, base, "seller")

    # Remove opens a dialog; Escape closes it and gives focus back; nothing was removed.
    page.goto(f"{base}/configurations/")
    remove = page.get_by_role("link", name="Remove Keep me")
    remove.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Remove “Keep me”?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(remove).to_be_focused()
    assert Configuration.objects.filter(pk=configuration.pk).exists()

    # Confirming removes it.
    remove.click()
    dialog.get_by_role("button", name="Remove configuration").click()
    expect(page.get_by_text("Configuration “Keep me” removed.")).to_be_visible()
    assert not Configuration.objects.filter(pk=configuration.pk).exists()

    # The hottok is masked until revealed, then can be copied and hidden again.
    hottok = Account.objects.get(user=seller).hottok
    page.get_by_role("link", name="Documentation").click()
    assert hottok not in page.content()
    page.get_by_role("button", name="Reveal").click()
    expect(page.locator("#hottok-value")).to_have_text(hottok)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy").first.click()
    expect(page.locator("#announcer")).to_have_text("Hottok copied to the clipboard.")
    page.get_by_role("button", name="Hide").click()
    expect(page.locator("#hottok-value")).not_to_have_text(hottok)

    # Regenerating asks first.
    page.get_by_role("link", name="Regenerate…").click()
    page.get_by_role("dialog").get_by_role("button", name="Regenerate").click()
    expect(page.get_by_text("A new hottok was generated.")).to_be_visible()
    assert Account.objects.get(user=seller).hottok != hottok


def test_phone_width_keeps_every_page_usable(page, live_server, seller):
    configuration = configuration_services.configuration_create(
        owner=seller, name="Phone", events=["PURCHASE_APPROVED"], url="http://127.0.0.1:9/a-rather-long/webhook/path"
    )
    [notification] = event_record(
        owner=seller, event_type="PURCHASE_APPROVED", product=ProductFactory(owner=seller)
    ).notifications
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, "seller")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()  # folded behind the Menu button
    page.get_by_role("button", name="Menu").click()
    expect(nav.get_by_role("link", name="Configurations")).to_be_visible()
    for path in (
        "/",
        "/configurations/",
        f"/configurations/{configuration.pk}/edit/",
        "/history/",
        f"/history/{notification.pk}/",
        "/documentation/PURCHASE_APPROVED/",
        f"/history/bulk-resends/new/?configuration={configuration.pk}",
    ):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways at phone width ({width}px)"


def test_a_live_page_whose_session_ends_goes_to_the_login_page(page, live_server, seller):
    log_in(page, live_server.url, "seller")  # History's first page polls
    page.context.clear_cookies()
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
