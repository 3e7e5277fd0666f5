"""Browser tests: Playwright drives Debian's /usr/bin/chromium (never a downloaded browser) headless.

Without Chromium these tests are skipped with a reason, except where ``E2E_REQUIRED`` is set (CI sets it,
after installing the package), where a missing browser is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dispatcher.dashboard.browser import CHROMIUM, CHROMIUM_ARGS

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
