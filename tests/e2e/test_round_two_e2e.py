"""What a new user tripped over (issue 16), as that user clicks it in a real browser: double-clicks, the resend
offer after a reload, long names on a phone, the credentials' copy buttons, the phone's menu."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from configurations import services as configuration_services
from configurations.models import Configuration
from history.choices import NotificationStatus
from history.models import Event, Notification
from history.publishing import configuration_stop, event_record
from inbox.services import CaughtRequest, inbox_catch, inbox_create
from sales.models import Purchase
from sales.services import transaction_create
from tests.conftest import wait_until
from tests.e2e.conftest import log_in
from tests.factories import ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def posts_to(page: Page, path: str) -> list[str]:
    """Every POST the page sends to ``path``, as it sends them."""
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and r.url.endswith(path) else None)
    return sent


def test_a_double_click_acts_once_and_shows_the_success(page: Page, live_server, httpserver, seller):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok", status=200)
    ProductFactory(owner=seller, name="Curso")
    configuration_services.configuration_create(
        owner=seller, name="Receiver", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook")
    )
    base = live_server.url
    log_in(page, base, "seller")

    # Create purchase, double-clicked: one POST leaves the page, one transaction, its page.
    purchases = posts_to(page, "/simulator/purchase/")
    page.goto(f"{base}/simulator/")
    page.get_by_role("button", name="Create purchase").dblclick()
    expect(page.locator("#transaction-status")).to_have_text("APPROVED")
    sale = Purchase.objects.get(owner=seller)
    assert len(purchases) == 1 and Purchase.objects.count() == 1

    # Refund, double-clicked: refunded once, the success shown, and the address is the transaction's page.
    moves = posts_to(page, f"/simulator/transactions/{sale.transaction}/move/")
    page.get_by_role("button", name="Refund").dblclick()
    expect(page.get_by_text(f"PURCHASE_REFUNDED ({sale.transaction}) recorded")).to_be_visible()
    expect(page.locator("#transaction-status")).to_have_text("REFUNDED")
    expect(page.locator(".errorlist")).to_have_count(0)
    assert "/move/" not in page.url and len(moves) == 1
    assert Event.objects.filter(event_type="PURCHASE_REFUNDED").count() == 1

    # Send test (htmx), double-clicked: one test post, its result inline.
    tests = posts_to(page, "/test/")
    page.goto(f"{base}/configurations/")
    page.get_by_role("button", name="Send test").dblclick()
    expect(page.locator(".test-result .result")).to_be_visible()
    assert len(tests) == 1 and Notification.objects.filter(is_test=True).count() == 1

    # The button works again for a second, deliberate test post (the form got a new token).
    expect(page.get_by_role("button", name="Send test")).to_be_enabled()
    page.get_by_role("button", name="Send test").click()
    wait_until(lambda: Notification.objects.filter(is_test=True).count() == 2, message="a second test post")
    assert len(tests) == 2


def test_the_resend_offer_stays_after_a_reload_until_declined(page: Page, live_server, stack, httpserver, seller):
    httpserver.expect_request("/flaky", method="POST").respond_with_data("down", status=500)
    product = ProductFactory(owner=seller)
    configuration = configuration_services.configuration_create(
        owner=seller, name="Flaky", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/flaky")
    )
    for _ in range(2):
        event_record(owner=seller, event_type="PURCHASE_APPROVED", product=product)
    failed = Notification.objects.filter(configuration=configuration, status=NotificationStatus.FAILED)
    wait_until(lambda: failed.count() == 2, timeout=60, message="both notifications to fail their 5 attempts")
    configuration_stop(configuration_id=configuration.pk, reason="All 5 attempts found the URL in error")
    log_in(page, live_server.url, "seller")
    page.goto(f"{live_server.url}/configurations/")

    page.locator(f"#disabled-banner-{configuration.pk}").get_by_role("button", name="Enable").click()
    offer = page.locator(f"#resend-offer-{configuration.pk}")
    expect(offer).to_contain_text("2 notifications failed or were cancelled")
    expect(offer.get_by_role("button", name="Resend 2")).to_be_visible()
    page.reload()
    expect(offer.get_by_role("button", name="Resend 2")).to_be_visible()

    offer.get_by_role("button", name="Not now").click()
    expect(page.get_by_text("No resend for “Flaky”")).to_be_visible()
    expect(offer).to_have_count(0)
    page.reload()
    expect(offer).to_have_count(0)
    configuration.refresh_from_db()
    assert configuration.is_active and configuration.resend_offer_since is None


def test_long_names_never_widen_a_phone_page_nor_run_under_a_badge(page: Page, live_server, stack, httpserver, seller):
    httpserver.expect_request("/" + "z" * 150, method="POST").respond_with_data("ok", status=200)
    long = "Configuração" + "X" * 88  # 100 characters, no space
    product = configuration_services.product_create(owner=seller, name="Produto" + "Y" * 193, price="10.00")
    configuration = configuration_services.configuration_create(
        owner=seller,
        name=long,
        events=["PURCHASE_APPROVED", "PURCHASE_REFUNDED"],
        url=httpserver.url_for("/" + "z" * 150),
    )
    configuration_services.affiliate_add(product=product, username="a" * 150, commission_percent="10")
    sale = transaction_create(owner=seller, product=product, buyer_name="B" * 120).purchase
    [notification] = Notification.objects.filter(configuration=configuration)  # the worker delivers it
    configuration_services.api_credential_create(owner=seller, name="C" * 100)
    inbox = inbox_create(owner=seller, name="I" * 100)
    inbox_catch(
        token=inbox.token,
        request=CaughtRequest(
            method="POST", path="/" + "p" * 300, headers={}, body=b"{}", body_size=2, body_truncated=False,
            remote_addr="::1",
        ),
    )  # fmt: skip
    wait_until(lambda: Notification.objects.get(pk=notification.pk).status == NotificationStatus.DELIVERED)
    configuration_stop(configuration_id=configuration.pk, reason="R" * 200)
    configuration_services.configuration_enable(configuration=configuration)

    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "seller")
    for path in (
        "/",
        "/configurations/",
        f"/configurations/{configuration.pk}/edit/",
        "/products/",
        f"/products/{product.hotmart_id}/edit/",
        "/affiliates/",
        "/simulator/",
        f"/simulator/transactions/{sale.transaction}/",
        "/history/",
        f"/history/{notification.pk}/",
        "/inboxes/",
        f"/inboxes/{inbox.pk}/",
        "/credentials/",
    ):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a {PHONE['width']}px phone"

    # On a wide screen, the timeline's configuration name stays clear of its status badge.
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/simulator/transactions/{sale.transaction}/")
    delivery = page.locator(".deliveries li").first
    expect(delivery.locator(".badge")).to_have_text("Delivered")
    name = delivery.locator(".delivery-target a").bounding_box()
    badge = delivery.locator(".delivery-state").bounding_box()
    assert name["x"] + name["width"] <= badge["x"], "the name ends before the badge starts"


def test_credentials_fit_their_card_and_copy_what_was_just_created(page: Page, live_server, seller):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server.url, "seller")
    page.goto(f"{live_server.url}/credentials/")
    page.get_by_label("Name").fill("Zapier")
    page.get_by_role("button", name="Create credential").click()
    banner = page.locator("#new-credential")
    secret = banner.locator("#new-client-secret").inner_text()

    for what, source in (
        ("Client ID", "#new-client-id"),
        ("Client Secret", "#new-client-secret"),
        ("Basic value", "#new-basic"),
    ):
        banner.get_by_role("button", name=f"Copy the {what}").click()
        expected = banner.locator(source).inner_text()
        expect(page.locator("#announcer")).to_contain_text("copied")
        assert page.evaluate("navigator.clipboard.readText()") == expected, what
    banner.get_by_role("button", name="Copy the command that gets a token").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("curl -X POST") and secret in copied

    curl = banner.locator("#new-curl")
    assert curl.evaluate("e => e.scrollWidth <= e.clientWidth"), "the whole command shows, wrapped"
    card = page.locator("section", has=page.get_by_role("heading", name="Your credentials")).bounding_box()
    revoke = page.get_by_role("button", name="Revoke Zapier").bounding_box()
    assert revoke["x"] + revoke["width"] <= card["x"] + card["width"], "Revoke inside its card at 1366 px"
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]

    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_role("button", name="Revoke Zapier")).to_be_in_viewport()


def test_on_a_phone_the_menu_shows_every_page(page: Page, live_server, seller):
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "seller")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    expect(links).to_have_count(9)  # History's views (Sent, Pending, Bulk resends) are tabs on its page
    for index in range(9):
        box = links.nth(index).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], links.nth(index).inner_text()
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()


def test_after_regenerating_the_hottok_the_message_is_in_view(page: Page, live_server, seller):
    log_in(page, live_server.url, "seller")
    page.goto(f"{live_server.url}/documentation/")
    page.get_by_role("link", name="Regenerate…").click()
    page.get_by_role("dialog").get_by_role("button", name="Regenerate").click()
    expect(page.get_by_text("A new hottok was generated.")).to_be_in_viewport()
    expect(page.locator("#hottok-value")).to_be_in_viewport()
    assert Configuration.objects.count() == 0
