"""The dashboard's own pages: login/logout, Overview, Documentation, error pages, static files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from catalogue import CATALOGUE
from catalogue.events import EventType
from configurations.models import Account
from history.choices import NotificationStatus
from history.publishing import configuration_stop
from tests.factories import ConfigurationFactory
from tests.pages import add_attempt, record

pytestmark = pytest.mark.django_db


# --- Login ----------------------------------------------------------------------------------------------------


def test_login_then_logout(client):
    get_user_model().objects.create_user("ana", password="s3cret-pass")
    page = client.get(reverse("login")).content.decode()
    assert 'for="id_username"' in page and 'autocomplete="current-password"' in page

    response = client.post(reverse("login"), {"username": "ana", "password": "s3cret-pass"})
    assert response.status_code == 302 and response.url == reverse("overview")
    assert client.get(reverse("overview")).status_code == 200

    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url == reverse("login")
    assert client.get(reverse("overview")).status_code == 302


def test_wrong_password_is_a_clear_error(client):
    get_user_model().objects.create_user("ana", password="s3cret-pass")
    page = client.post(reverse("login"), {"username": "ana", "password": "nope"}).content.decode()
    assert "Please enter a correct username and password" in page


def test_the_demo_user_logs_in_with_demo_demo(client):
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    response = client.post(reverse("login"), {"username": "demo", "password": "demo"})
    assert response.status_code == 302 and response["Location"] == reverse("overview")


@pytest.mark.parametrize("name", ["overview", "documentation"])
def test_anonymous_users_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response.url == f"{reverse('login')}?next={reverse(name)}"


# --- Overview -------------------------------------------------------------------------------------------------


def test_overview_counts_the_last_day_and_the_success_rate(web, producer, product, configuration):
    notifications = [record(producer, product)[0] for _ in range(5)]
    for n in notifications[:3]:
        add_attempt(n, status=200)
    add_attempt(notifications[3], status=500, final=NotificationStatus.FAILED)

    page = web.get(reverse("overview")).content.decode()

    assert re.search(r"Deliveries</div><div class=\"value\">5<", page)
    assert "75.0%" in page, "3 delivered of 3 delivered + 1 failed"
    assert re.search(r"In progress</div><div class=\"value\">1<", page)
    assert 'role="img"' in page and "Deliveries per hour" in page, "the chart"
    assert f'href="/history/{notifications[3].pk}/"' in page, "recent failures link to the detail"


def test_overview_lists_failing_configurations(web, producer):
    dead = ConfigurationFactory(owner=producer, name="Dead one")
    configuration_stop(configuration_id=dead.pk, reason="connection refused 5 times")
    ConfigurationFactory(owner=producer, name="Healthy")
    page = web.get(reverse("overview")).content.decode()
    assert "Dead one" in page and "connection refused 5 times" in page
    assert "Healthy" not in page


def test_overview_for_a_new_producer_says_how_to_start(web):
    page = web.get(reverse("overview")).content.decode()
    assert "Send your first webhook in three steps" in page
    assert "No deliveries in the last 24 hours" in page


def test_overview_queries_are_bounded(web, producer, product, django_assert_max_num_queries):
    for n in range(8):
        ConfigurationFactory(owner=producer, name=f"c{n}")
    for _ in range(5):
        record(producer, product)
    with django_assert_max_num_queries(8):
        web.get(reverse("overview"))


# --- Documentation --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", EventType.values)
def test_documentation_of_every_event_comes_from_the_catalogue(web, producer, event_type):
    page = web.get(reverse("documentation_event", args=[event_type])).content.decode()
    rows = CATALOGUE[event_type].rows()
    assert page.count('class="param"') == len(rows)
    for row in rows:
        parent, _, leaf = row.name.rpartition(".")
        shown = (
            f'<span class="parent">{parent}.</span><wbr><strong>{leaf}</strong>'
            if parent
            else f"<strong>{leaf}</strong>"
        )
        assert shown in page, row.name
    assert CATALOGUE[event_type].summary.replace("'", "&#x27;") in page
    example = page[page.index('id="example-json"') :]
    example = example[example.index(">") + 1 : example.index("</pre>")]
    payload = json.loads(example.replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&"))
    assert payload["event"] == event_type and payload["version"] == "2.0.0"
    assert Account.objects.get(user=producer).hottok not in page


def test_the_navigation_marks_the_current_section(web):
    page = web.get(reverse("documentation_event", args=["SWITCH_PLAN"])).content.decode()
    assert re.search(r'href="/documentation/" aria-current="page"', page)
    page = web.get(reverse("configurations:create")).content.decode()
    assert re.search(r'href="/configurations/" aria-current="page"', page)


def test_documentation_marks_what_affiliates_receive(web):
    page = web.get(reverse("documentation_event", args=["PURCHASE_APPROVED"])).content.decode()
    document_row = page[page.index("data.producer.</span><wbr><strong>document</strong>") :][:400]
    assert ">no</span>" in document_row, "the producer's document never goes to affiliates"
    page = web.get(reverse("documentation_event", args=["UPDATE_SUBSCRIPTION_CHARGE_DATE"])).content.decode()
    hottok_row = page[page.index("<strong>hottok</strong>") :][:300]
    assert ">yes</span>" in hottok_row, "an affiliate's notification carries the affiliate's own hottok"


def test_unknown_event_documentation_is_404(web):
    assert web.get(reverse("documentation_event", args=["NOT_AN_EVENT"])).status_code == 404


# --- Error pages, static files --------------------------------------------------------------------------------


def test_unknown_pages_get_the_styled_404(web):
    response = web.get("/no/such/page/")
    assert response.status_code == 404 and "This page does not exist" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_the_500_page_is_styled_and_shows_no_traceback(settings):
    response = server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500 and "Something went wrong on our side" in page
    assert "dashboard.css" in page and "Traceback" not in page


def test_debug_is_off_by_default_even_in_the_sandbox():
    """Tracebacks never reach a page: DEBUG is on only when asked for."""
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env["DISPATCHER_MODE"] = "sandbox"
    out = subprocess.run(
        [sys.executable, "-c", "from dispatcher import settings; print(settings.DEBUG)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "False"


def test_htmx_and_the_stylesheet_are_served_from_our_static_files():
    assert finders.find("vendor/htmx-2.0.11.min.js")
    assert finders.find("css/dashboard.css") and finders.find("js/dashboard.js")


def test_pages_load_htmx_locally_and_carry_the_csrf_token_for_it(web):
    page = web.get(reverse("overview")).content.decode()
    assert "/static/vendor/htmx-2.0.11.min.js" in page and "//unpkg" not in page and "cdn" not in page.lower()
    assert '"X-CSRFToken": "' in page
    assert 'class="skip-link" href="#main"' in page and 'aria-live="polite"' in page


def test_overview_says_just_now_counts_in_the_singular_and_keeps_the_peak_off_the_bars(web, producer, product):
    configuration = ConfigurationFactory(owner=producer, name="Failing")
    [notification] = [n for n in record(producer, product) if n.configuration_id == configuration.pk]
    add_attempt(notification, status=500, final=NotificationStatus.FAILED)

    page = web.get(reverse("overview")).content.decode()

    assert "notification created" in page and "notifications created" not in page
    failures = page[page.index("Recent failures") :]
    assert "just now" in failures and "0\xa0minutes" not in failures and "0 minutes" not in failures
    chart = page[page.index('<svg class="chart"') : page.index("</svg>")]
    assert "peak" not in chart.lower(), "no label drawn over the bars"
    assert "Busiest hour: 1 notification" in page


# --- Round two: every page --------------------------------------------------------------------------------------

WHEN = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4} \d{2}:\d{2}(:\d{2})? [A-Z]{2,5}$")


@pytest.fixture
def everything(producer, product):
    """One of each thing the pages show, for walks over every page."""
    from configurations.services import affiliate_add, api_credential_create, hook_subscribe
    from inbox.services import CaughtRequest, inbox_catch, inbox_create
    from sales.services import transaction_create

    configuration = ConfigurationFactory(owner=producer, name="Walk")
    [notification] = [n for n in record(producer, product) if n.configuration_id == configuration.pk]
    add_attempt(notification, status=500, final=NotificationStatus.FAILED)
    configuration_stop(configuration_id=configuration.pk, reason="walk")
    hook_subscribe(owner=producer, target_url="https://hooks.example.com/walk", event="order")
    api_credential_create(owner=producer, name="Walk CI")
    affiliate_add(product=product, username="walker", commission_percent="10")
    sale = transaction_create(owner=producer, product=product).purchase
    inbox = inbox_create(owner=producer, name="Walk inbox")
    inbox_catch(
        token=inbox.token,
        request=CaughtRequest(
            method="POST", path="/", headers={}, body=b"{}", body_size=2, body_truncated=False, remote_addr="::1"
        ),
    )
    return {"configuration": configuration, "notification": notification, "sale": sale, "inbox": inbox}


def walked_pages(everything, product) -> list[str]:
    return [
        reverse("overview"),
        reverse("configurations:list"),
        reverse("configurations:create"),
        reverse("configurations:edit", args=[everything["configuration"].pk]),
        reverse("configurations:disable", args=[everything["configuration"].pk]),
        reverse("products:list"),
        reverse("products:create"),
        reverse("products:edit", args=[product.hotmart_id]),
        reverse("affiliates:list"),
        reverse("simulator:index"),
        reverse("simulator:transaction", args=[everything["sale"].transaction]),
        reverse("inboxes:list"),
        reverse("inboxes:create"),
        reverse("inboxes:detail", args=[everything["inbox"].pk]),
        reverse("inboxes:edit", args=[everything["inbox"].pk]),
        reverse("history:list"),
        reverse("history:detail", args=[everything["notification"].pk]),
        f"{reverse('history:bulk_new')}?configuration={everything['configuration'].pk}",
        reverse("documentation"),
        reverse("credentials:index"),
    ]


def test_every_time_on_every_page_is_written_one_way(web, everything, product):
    seen = 0
    for url in walked_pages(everything, product):
        page = web.get(url).content.decode()
        assert "{#" not in page and "{%" not in page and "{{" not in page, f"{url} shows template syntax"
        for shown in re.findall(r"<time [^>]*>([^<]*)</time>", page):
            if shown in ("just now",) or shown.endswith(" ago"):
                continue
            assert WHEN.match(shown), f"{url}: {shown!r}"
            seen += 1
    assert seen >= 15


def test_every_text_input_on_every_page_has_a_maxlength(web, client, everything, product):
    fields = 0
    pages = [(web, url) for url in walked_pages(everything, product)] + [(client, reverse("login"))]
    for browser, url in pages:
        page = browser.get(url).content.decode()
        for tag in re.findall(r"<(?:input|textarea)\b[^>]*>", page):
            kind = re.search(r'type="([^"]+)"', tag)
            kind = kind.group(1) if kind else ("textarea" if tag.startswith("<textarea") else "text")
            if kind in ("text", "email", "url", "search", "tel", "password", "textarea"):
                assert re.search(r'maxlength="\d+"', tag), f"{url}: {tag}"
                fields += 1
    assert fields >= 20


def test_the_navigation_reaches_products_and_affiliates(web):
    page = web.get(reverse("products:list")).content.decode()
    assert 'href="/products/" aria-current="page"' in page and 'href="/affiliates/"' in page
    assert 'aria-controls="main-nav"' in page, "the phone's Menu button"
