"""How the dashboard's browser tools (the e2e tests, `make screenshots`) launch Chromium.

Debian's package at /usr/bin/chromium, driven by Playwright: never a browser Playwright downloads.
"""

import os

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
