"""The receiver check as a user clicks it: a real browser, a live server, the real worker and a real receiver."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from configurations.models import Account
from receiver_checks.models import ReceiverCheck
from tests.e2e.conftest import log_in
from tests.receiver_checks.receivers import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_checking_a_url_from_the_simulator_fills_the_report_card_live(page, live_server, stack, seller):
    hottok = Account.objects.get(user=seller).hottok
    base = live_server.url
    with Receiver(hottok, accepts_any_hottok=True) as receiver:
        log_in(page, base, "seller")
        page.get_by_role("link", name="Simulator", exact=True).click()
        form = page.locator("#check-url-form")
        form.get_by_label("Receiver URL").fill(receiver.url)
        form.get_by_role("button", name="Check receiver").dblclick()  # a double click starts one check

        expect(page.get_by_role("heading", name=re.compile(r"Receiver check #\d+"))).to_be_visible()
        expect(page.locator("#overall-grade")).to_have_text("Failed", timeout=60_000)

    assert ReceiverCheck.objects.filter(owner=seller).count() == 1
    expect(page.locator("#check-status")).to_contain_text("2 failed, 0 warnings, 24 passed")
    wrong = page.locator("#check-hottok_wrong")
    expect(wrong.locator("[data-grade]")).to_have_text("Fail")
    expect(wrong).to_contain_text("Anyone who learns this URL can fake sales")
    expect(wrong).to_contain_text("How to fix:")
    expect(page.locator("#check-repeat [data-grade]")).to_have_text("Pass")
    assert hottok not in page.content()

    # Each check links to its notification in History.
    wrong.locator(".report-check-answers a").first.click()
    expect(page.get_by_role("heading", name="History of responses")).to_be_visible()
    expect(page.locator("#delivery-live")).to_contain_text("a receiver check of this URL")
    expect(page.locator(".attempt").first.locator(".chip")).to_have_text("200")
