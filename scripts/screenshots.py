"""Write PNG screenshots of every dashboard page, with demo data, to docs/screenshots/ (`make screenshots`).

It runs a private sandbox in a temporary directory (SQLite, embedded Redis, web, worker and beat, so nothing
touches data/ or a sandbox you have running), seeds the demo producer, starts a local receiver that answers
200, 500 and 503, records sales so that real deliveries happen, and drives headless Chromium (Debian's
/usr/bin/chromium through Playwright) over the pages as the demo user.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
MAX_PNG_BYTES = 900 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver(BaseHTTPRequestHandler):
    """A receiver with a few moods: /ok answers 200, /crm now and then 500, /busy 503 with Retry-After."""

    calls = 0

    def do_POST(self):  # noqa: N802 - the http.server API
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Receiver.calls += 1
        if self.path.startswith("/busy"):
            self._answer(503, {"error": "maintenance, come back later"}, {"Retry-After": "300"})
        elif self.path.startswith("/crm") and Receiver.calls % 4 == 0:
            self._answer(500, {"error": "database is locked"})
        else:
            self._answer(200, {"received": True, "queued_as": f"job-{random.randint(1000, 9999)}"})

    def _answer(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit(f"screenshots: timed out waiting for {what}")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="hwds-shots-"))
    web_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG")}
    env.update(
        DISPATCHER_DATA_DIR=str(tmp),
        DISPATCHER_MODE="sandbox",
        DISPATCHER_RETRY_SCHEDULE="0.3,0.3,0.3,0.3",
        DISPATCHER_RETRY_JITTER="0",
        DISPATCHER_SWEEP_INTERVAL="0.5",
        SANDBOX_ADDRPORT=f"127.0.0.1:{web_port}",
        WORKER_CONCURRENCY="8",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    os.environ.clear()
    os.environ.update(env)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], check=True, cwd=ROOT)
    subprocess.run([*manage, "seed_demo"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    base_hook = f"http://127.0.0.1:{receiver.server_address[1]}"

    log = open(tmp / "sandbox.log", "wb")  # noqa: SIM115 - closed at the end
    sandbox = subprocess.Popen(
        [*manage, "sandbox"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_for(lambda: _listening(web_port), 60, "the sandbox's web server")
        notification_ids = seed_history(base_hook)
        shoot(f"http://127.0.0.1:{web_port}", notification_ids)
    finally:
        os.killpg(sandbox.pid, signal.SIGINT)
        try:
            sandbox.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(sandbox.pid, signal.SIGKILL)
        log.close()
        receiver.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


def seed_history(base_hook: str) -> dict[str, int]:
    """Configurations and a day of sales through the real engine; answers a few notification ids to show."""
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatcher.settings")
    django.setup()
    from django.contrib.auth import get_user_model

    from catalogue.events import EventType
    from configurations import selectors as configuration_selectors
    from configurations.services import affiliate_register, affiliation_create, configuration_create
    from history.choices import OPEN_STATUSES
    from history.models import Attempt, Notification
    from history.publishing import configuration_test_post, event_record
    from inbox import selectors as inbox_selectors
    from inbox.services import inbox_create

    demo = get_user_model().objects.get(username="demo")
    course, club = list(configuration_selectors.product_list(owner_id=demo.pk))
    dead = f"http://127.0.0.1:{free_port()}/webhook"
    members = configuration_create(
        owner=demo,
        name="Members area",
        events=[e for e in EventType.values if e.startswith("PURCHASE_") or e.startswith("CLUB_")],
        url=f"{base_hook}/ok/members",
    )
    configuration_create(
        owner=demo,
        name="CRM",
        events=["PURCHASE_APPROVED", "PURCHASE_REFUNDED", "PURCHASE_CHARGEBACK"],
        url=f"{base_hook}/crm/hotmart",
        product=course,
    )
    configuration_create(
        owner=demo, name="Subscriptions", events=EventType.values, url=f"{base_hook}/busy", product=club
    )
    configuration_create(owner=demo, name="Legacy LMS", events=["PURCHASE_APPROVED"], url=dead)

    rng = random.Random(7)
    kinds = ["PURCHASE_APPROVED"] * 6 + ["PURCHASE_COMPLETE", "PURCHASE_REFUNDED", "PURCHASE_CANCELED"]
    for _ in range(40):
        event_record(owner=demo, event_type=rng.choice(kinds), product=course)
    for event_type in ("SWITCH_PLAN", "SUBSCRIPTION_CANCELLATION"):
        event_record(owner=demo, event_type=event_type, product=club)
    test = configuration_test_post(owner=demo, configuration=members, event_type="PURCHASE_APPROVED")

    def settled():
        open_ones = Notification.objects.filter(status__in=OPEN_STATUSES).exclude(configuration__name="Subscriptions")
        return not open_ones.exists()

    wait_for(settled, 120, "the deliveries to settle")
    wait_for(
        lambda: Notification.objects.filter(configuration__name="Subscriptions", attempt_count__gte=1).count() >= 2,
        60,
        "the busy receiver's first answers",
    )
    # Spread the day's notifications over the last 24 hours so that the chart shows a day (demo data only).
    for notification in Notification.objects.filter(is_test=False).exclude(configuration__name="Subscriptions"):
        shift = timedelta(minutes=rng.randint(10, 23 * 60))
        Notification.objects.filter(pk=notification.pk).update(created_at=notification.created_at - shift)
        for attempt in Attempt.objects.filter(notification=notification):
            Attempt.objects.filter(pk=attempt.pk).update(started_at=attempt.started_at - shift)
    failed = Notification.objects.filter(configuration__name="Legacy LMS").order_by("-attempt_count").first()
    # An affiliate selling the course, for the Simulator's affiliate select.
    affiliate = affiliate_register(username="maria_afiliada", name="Maria Afiliada")
    affiliation_create(affiliate=affiliate, product=course, commission_percent=40)
    inbox = inbox_selectors.inbox_get_by_name(owner_id=demo.pk, name="Demo inbox")
    inbox_create(owner=demo, name="Flaky receiver", fail_first=2, fail_status=503, delay_ms=1500)
    inbox_create(owner=demo, name="Gone", status_code=410, response_body="", response_content_type="text/plain")
    return {
        "failed": failed.pk,
        "legacy": failed.configuration_id,
        "test": test.pk,
        "members": members.pk,
        "inbox": inbox.pk,
        "course": course.pk,
        "club": club.pk,
        "club_id": club.hotmart_id,
    }


def shoot(base: str, ids: dict[str, int]) -> None:
    from playwright.sync_api import sync_playwright

    from web.dashboard.browser import CHROMIUM, CHROMIUM_ARGS

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        desktop = browser.new_context(viewport={"width": 1280, "height": 860}, device_scale_factor=1)
        page = desktop.new_page()

        page.goto(f"{base}/login/")
        save(page, "login", full=False)
        page.fill("#id_username", "demo")
        page.fill("#id_password", "demo")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")

        save(page, "overview")
        page.goto(f"{base}/configurations/")
        test_form = page.locator(f"#configuration-{ids['members']} form.config-foot")
        test_form.get_by_role("button", name="Send test").click()
        page.locator(f"#test-result-{ids['members']} .result:not([hx-get])").wait_for()
        test_form.locator("button:not([disabled])").wait_for()  # the form takes clicks again (dashboard.js)
        save(page, "configurations")
        # A receiver check of the members area, from its card (its receiver takes any hottok: two checks fail).
        page.locator(f"#configuration-{ids['members']}").get_by_role("button", name="Check receiver").click()
        page.locator("#report-live:not([hx-trigger*='every'])").wait_for(timeout=90_000)
        save(page, "receiver-check", clip_height=1500)
        page.goto(f"{base}/configurations/new/")
        page.fill("#id_name", "Members area")
        page.fill("#id_url", "ftp://example.com/hook")
        page.click("button.btn-primary")
        save(page, "configuration-form")
        page.goto(f"{base}/documentation/UPDATE_SUBSCRIPTION_CHARGE_DATE/")
        save(page, "documentation", clip_height=1500)
        page.goto(f"{base}/history/")
        save(page, "history", clip_height=1400)
        page.goto(f"{base}/history/{ids['failed']}/")
        page.locator(".attempt").first.wait_for()
        save(page, "notification-detail", clip_height=1500)
        page.goto(f"{base}/history/sent/")
        save(page, "sent-posts", clip_height=1100)
        page.goto(f"{base}/history/pending/")
        save(page, "pending-posts", full=False)
        page.goto(f"{base}/history/bulk-resends/new/?configuration={ids['legacy']}")
        page.get_by_label("Cancelled").check()
        page.click("text=Start bulk resend")
        page.locator("#bulk-live:not([hx-trigger])").wait_for(timeout=60_000)
        save(page, "bulk-resend", full=False)
        page.goto(f"{base}/no/such/page/")
        save(page, "not-found", full=False)

        # The Simulator: a PIX purchase through the form, approved with its button; where each event went.
        page.goto(f"{base}/simulator/")
        page.select_option("#id_product", str(ids["course"]))
        page.get_by_label("PIX").check()
        page.fill("#id_buyer_name", "Ana Souza")
        page.fill("#id_buyer_email", "ana.souza@example.com")
        page.get_by_role("button", name="Create purchase").click()
        page.wait_for_url("**/simulator/transactions/**")
        page.get_by_role("button", name="Approve").click()
        page.wait_for_url("**/simulator/transactions/**#timeline")
        answered(page, "#timeline-live")
        save(page, "simulator-transaction", clip_height=1500)
        page.goto(f"{base}/simulator/")
        page.select_option("#id_product", str(ids["club"]))
        page.select_option("#id_plan", "quarterly")
        page.get_by_role("button", name="Create purchase").click()
        page.wait_for_url("**/simulator/transactions/**")
        page.locator("a[href*='/simulator/subscriptions/']").first.click()
        page.get_by_role("button", name="Renew").click()
        answered(page, "#recorded-live")
        save(page, "simulator-subscription", clip_height=1300)
        page.goto(f"{base}/simulator/")
        page.fill("#id_buyer_email", "not-an-email")
        page.get_by_role("button", name="Create purchase").click()
        save(page, "simulator", clip_height=1500)

        # The Inbox: its URL, and the requests the demo configuration sent it, one opened.
        page.goto(f"{base}/inboxes/")
        save(page, "inboxes", full=False)
        page.goto(f"{base}/inboxes/{ids['inbox']}/")
        page.locator("#request-list details summary").first.click()
        page.locator("#request-list .request-body table").first.wait_for()
        save(page, "inbox", clip_height=1300)

        # Products (a subscription product's plans) and the affiliates who sell them.
        page.goto(f"{base}/products/")
        save(page, "products", full=False)
        page.goto(f"{base}/products/{ids['club_id']}/edit/")
        page.locator("#id_plan_semiannual").check()
        page.fill("#id_plan_semiannual_price", "249.90")
        save(page, "product-form", clip_height=1300)
        page.goto(f"{base}/affiliates/")
        save(page, "affiliates", clip_height=1300)

        phone = browser.new_context(
            viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
        )
        mobile = phone.new_page()
        mobile.goto(f"{base}/login/")
        mobile.fill("#id_username", "demo")
        mobile.fill("#id_password", "demo")
        mobile.click("button[type=submit]")
        mobile.wait_for_url(f"{base}/")
        mobile.goto(f"{base}/history/")
        save(mobile, "phone-history", full=False)
        mobile.goto(f"{base}/configurations/")
        save(mobile, "phone-configurations", full=False)
        mobile.goto(f"{base}/simulator/")
        mobile.locator("a[href*='/simulator/transactions/']").first.click()
        save(mobile, "phone-simulator", full=False)
        mobile.get_by_role("button", name="Menu").click()
        save(mobile, "phone-menu", full=False)
        browser.close()


def answered(page, region: str) -> None:
    """Wait until every notification shown in ``region`` has had its first answer (no grey "pending" chip)."""
    page.wait_for_function(
        "selector => { const r = document.querySelector(selector);"
        " return r && r.querySelector('.chip') && !r.querySelector('.chip--neutral'); }",
        arg=region,
        timeout=60_000,
    )


def save(page, name: str, *, full: bool = True, clip_height: int | None = None) -> None:
    """One PNG, capped in height so that each file stays well under 1 MiB."""
    path = OUT / f"{name}.png"
    page.wait_for_load_state("networkidle")
    # A passing announcement, not the page (set through the DOM: the Content Security Policy refuses a <style>).
    page.evaluate("() => { const toast = document.getElementById('toast'); if (toast) toast.hidden = true; }")
    if clip_height:
        height = min(page.evaluate("document.documentElement.scrollHeight"), clip_height)
        width = page.viewport_size["width"]
        page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
    else:
        page.screenshot(path=str(path), full_page=full)
    size = path.stat().st_size
    if size > MAX_PNG_BYTES:
        raise SystemExit(f"screenshots: {path.name} is {size // 1024} KiB; keep each PNG under 900 KiB")
    print(f"  {path.relative_to(ROOT)}  {size // 1024} KiB")


if __name__ == "__main__":
    main()
