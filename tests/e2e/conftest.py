"""Browser tests: Playwright drives Debian's /usr/bin/chromium (never a downloaded browser) headless.

Without Chromium these tests are skipped with a reason, except where ``E2E_REQUIRED`` is set (CI sets it,
after installing the package), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from configurations import services as configuration_services
from tests.factories import UserFactory
from web.dashboard.browser import CHROMIUM, CHROMIUM_ARGS

# Playwright's sync API runs an event loop in the test's thread; the test still uses the ORM synchronously
# (to record purchases and check rows), which Django allows once told so.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists() or os.environ.get("E2E_REQUIRED"):
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}: apt-get install chromium to run the browser tests")
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def page(page):
    page.set_default_timeout(20_000)
    return page


PASSWORD = "a-long-test-password"


@pytest.fixture
def seller(db):
    """A producer who logs in with a password, as a person does."""
    user = UserFactory(username="seller")
    user.set_password(PASSWORD)
    user.save()
    configuration_services.account_get_or_create(user=user)
    return user


def log_in(page: Page, base: str, username: str) -> None:
    """Log in through the login page (History asks for it first) and land on History."""
    page.goto(f"{base}/history/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/history/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="History", exact=True)).to_be_visible()
