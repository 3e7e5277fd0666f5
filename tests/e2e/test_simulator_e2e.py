"""The Simulator and Inbox pages as a user clicks them: a real browser, the live server (which also serves the
inbox URLs), the real worker, and a real receiver."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from catalogue.events import EventType
from configurations.services import configuration_create
from history.models import Notification
from inbox.models import Inbox, InboxRequest
from inbox.services import inbox_create
from sales.models import Purchase
from sales.services import transaction_create
from tests.e2e.conftest import log_in
from tests.factories import ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_pix_purchase_goes_to_a_receiver_and_to_the_inbox_live(
    page, live_server, stack, httpserver, seller, settings
):
    # Inbox URLs point at the live server here (tests/plugin.py points them at a dead port otherwise).
    settings.INBOX = {**settings.INBOX, "BASE_URL": live_server.url}
    httpserver.expect_request("/hook", method="POST").respond_with_data("thanks!", status=200)
    ProductFactory(owner=seller, name="Curso de Webhooks", price="197.00")
    configuration_create(owner=seller, name="My receiver", events=EventType.values, url=httpserver.url_for("/hook"))
    base = live_server.url
    log_in(page, base, "seller")

    # An inbox, created on its page; its empty state offers a configuration with its URL, filled in.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox", exact=True).click()
    expect(page.get_by_role("heading", name="No inboxes yet")).to_be_visible()
    page.get_by_role("link", name="Create an inbox").click()
    page.get_by_label("Name").fill("My inbox")
    page.get_by_label("Status it answers").fill("700")
    page.get_by_role("button", name="Create inbox").click()
    expect(page.locator("#id_status_code_error")).to_have_text("From 200 to 599; got 700.")
    expect(page.get_by_label("Status it answers")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Status it answers").fill("200")
    page.get_by_role("button", name="Create inbox").click()
    expect(page.get_by_role("heading", name="Nothing caught yet")).to_be_visible()
    inbox = Inbox.objects.get(owner=seller)
    inbox_address = f"{live_server.url}/inbox/{inbox.token}/"
    expect(page.locator("#inbox-url")).to_have_text(inbox_address)
    page.get_by_role("link", name="create one with this URL").click()
    expect(page.get_by_label("URL")).to_have_value(inbox_address)
    page.get_by_label("Select every purchases event").check()
    page.get_by_role("button", name="Create configuration").click()
    expect(page.get_by_role("heading", name="My inbox")).to_be_visible()

    # The inbox stays open in a second tab, following what arrives.
    watcher = page.context.new_page()
    watcher.set_default_timeout(20_000)
    watcher.goto(f"{base}/inboxes/{inbox.pk}/")
    expect(watcher.get_by_role("heading", name="Nothing caught yet")).to_be_visible()

    # A PIX purchase from the Simulator: it waits for payment, and offers only its legal moves.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Simulator").click()
    checkout = page.get_by_role("region", name="New purchase")
    expect(checkout.get_by_label("Installments")).to_be_visible()
    checkout.get_by_label("PIX").check()
    expect(checkout.get_by_label("Installments")).to_be_hidden()
    checkout.get_by_label("Buyer name").fill("Ana Souza")
    checkout.get_by_label("Buyer e-mail").fill("ana@example.com")
    checkout.get_by_role("button", name="Create purchase").click()
    purchase = Purchase.objects.get(owner=seller)
    expect(page.get_by_role("heading", name=re.compile(purchase.transaction))).to_be_visible()
    expect(page.locator("#transaction-status")).to_have_text("BILLET_PRINTED")
    moves = page.get_by_role("region", name="Next moves")
    # expiring really waits for the PIX's expiry: made now, or scheduled for then
    expect(moves.get_by_role("button")).to_have_text(["Approve", "Expire", re.compile(r"^Schedule expire for ")])

    # Approve it: the page says where it went, and both deliveries turn 200 by themselves.
    moves.get_by_role("button", name="Approve").click()
    expect(
        page.get_by_text(f"PURCHASE_APPROVED ({purchase.transaction}) recorded, sent to 2 configurations")
    ).to_be_visible()
    expect(page.locator("#transaction-status")).to_have_text("APPROVED")
    approved = page.locator("#timeline-live .timeline-item.is-new")
    expect(approved).to_contain_text("PURCHASE_APPROVED")
    expect(approved.locator(".deliveries li")).to_have_count(2)
    expect(approved.locator(".chip")).to_have_text(["200", "200"], timeout=30_000)
    expect(approved).to_contain_text("My receiver")
    expect(approved).to_contain_text("My inbox")
    # A PIX is never charged back: that move is not offered.
    expect(moves.get_by_role("button")).to_have_text(
        ["Complete", re.compile(r"^Schedule complete for "), "Refund", "Dispute"]
    )
    expect(page.get_by_role("button", name="Chargeback")).to_have_count(0)

    # The inbox tab got both requests without a reload; the newest shows the masked hottok and the payload.
    expect(watcher.locator("#request-list > li")).to_have_count(2, timeout=30_000)
    opened = watcher.locator(f"#request-{InboxRequest.objects.get(inbox=inbox, number=2).pk}")
    expect(watcher.locator("#request-list > li").first).to_have_id(opened.get_attribute("id"))
    opened.locator("summary").click()
    body = opened.locator(".request-body")
    expect(body).to_contain_text('"event": "PURCHASE_APPROVED"')
    expect(body).to_contain_text("X-Hotmart-Hottok")
    assert seller.webhook_account.hottok not in watcher.content()

    # History shows the 200 of the receiver's notification; its detail opens from the simulator's link.
    receiver = Notification.objects.get(configuration__name="My receiver", event_type="PURCHASE_APPROVED")
    page.get_by_role("link", name=re.compile(f"Notification {receiver.pk} to My receiver")).click()
    expect(page.get_by_role("heading", name="History of responses")).to_be_visible()
    expect(page.locator(".attempt").first.locator(".chip")).to_have_text("200")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History", exact=True).click()
    row = page.locator(f"#notification-{receiver.pk}")
    expect(row.locator(".chip")).to_have_text("200")
    expect(row).to_contain_text("PURCHASE_APPROVED")

    # Refund it: the move is recorded, nothing more is offered, and the inbox tab gets a third request live.
    page.goto(f"{base}/simulator/transactions/{purchase.transaction}/")
    page.get_by_role("region", name="Next moves").get_by_role("button", name="Refund").click()
    expect(page.locator("#transaction-status")).to_have_text("REFUNDED")
    expect(page.get_by_text("REFUNDED is final")).to_be_visible()
    expect(page.get_by_role("region", name="Next moves").get_by_role("button")).to_have_count(0)
    expect(watcher.locator("#request-list > li")).to_have_count(3, timeout=30_000)
    expect(opened.locator("details")).to_have_attribute("open", "")  # the opened request stayed open
    assert InboxRequest.objects.filter(inbox=inbox).count() == 3
    assert len([r for r, _ in httpserver.log if r.path == "/hook"]) == 3


def test_subscription_actions_and_a_dialog_to_remove_an_inbox(page, live_server, seller):
    club = ProductFactory(owner=seller, name="Clube", price="49.90", is_subscription=True)
    subscription = transaction_create(owner=seller, product=club).subscription
    inbox_create(owner=seller, name="Keep me")
    base = live_server.url
    log_in(page, base, "seller")

    page.goto(f"{base}/simulator/subscriptions/{subscription.subscriber_code}/")
    page.get_by_label("Day of the month").fill("40")
    page.get_by_role("button", name="Change day").click()
    expect(page.locator("#id_day_error")).to_contain_text("1 to 31")
    page.get_by_label("New plan").select_option("yearly")
    page.get_by_role("button", name="Switch plan").click()
    expect(page.get_by_text("SWITCH_PLAN recorded")).to_be_visible()
    expect(page.locator("#recorded-live")).to_contain_text("Sent nowhere")
    page.get_by_label("By", exact=True).select_option("seller")
    page.get_by_role("button", name="Cancel subscription").click()
    expect(page.locator("#subscription-status")).to_have_text("CANCELLED_BY_SELLER")
    expect(page.get_by_role("button", name="Renew")).to_be_disabled()

    # Remove asks first in a dialog: Escape keeps the inbox and gives focus back; confirming removes it.
    page.goto(f"{base}/inboxes/")
    remove = page.get_by_role("link", name="Remove Keep me")
    remove.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Remove “Keep me”?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(remove).to_be_focused()
    remove.click()
    dialog.get_by_role("button", name="Remove inbox").click()
    expect(page.get_by_text("Inbox “Keep me” removed")).to_be_visible()
    assert not Inbox.objects.filter(owner=seller).exists()


def test_the_new_pages_fit_a_phone(page, live_server, seller):
    course = ProductFactory(owner=seller, name="Um curso com um nome bem comprido para caber num telefone")
    club = ProductFactory(owner=seller, name="Clube", is_subscription=True)
    card = transaction_create(owner=seller, product=course, buyer_email="a.very.long.address@example.com").purchase
    pix = transaction_create(owner=seller, product=course, payment_type="PIX").purchase
    subscription = transaction_create(owner=seller, product=club).subscription
    inbox = inbox_create(owner=seller, name="Phone inbox")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, "seller")
    for path in (
        "/simulator/",
        f"/simulator/transactions/{card.transaction}/",
        f"/simulator/transactions/{pix.transaction}/",
        f"/simulator/subscriptions/{subscription.subscriber_code}/",
        "/inboxes/",
        f"/inboxes/{inbox.pk}/",
        "/inboxes/new/",
    ):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways at phone width ({width}px)"
