"""The Inbox pages: list (URL, how each answers, who sends to it), create and edit with errors under their fields,
the live list of caught requests (hottok masked, body escaped, truncated flag), reset and remove; scoping."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from configurations.services import configuration_create
from inbox.models import Inbox, InboxRequest
from inbox.selectors import inbox_url
from inbox.services import inbox_create, inbox_reset, inbox_update
from tests.pages import HTMX, error_under, page_after, page_of

pytestmark = pytest.mark.django_db

HOTTOK = "hottok-secret-value-0123456789abcdef"


def send(client: Client, inbox: Inbox, body: bytes | str = b"{}", *, content_type="application/json", path=""):
    """A request to the inbox's catching URL, through the app, as a dispatcher would send it."""
    return client.post(
        f"/inbox/{inbox.token}/{path}", data=body, content_type=content_type, HTTP_X_HOTMART_HOTTOK=HOTTOK
    )


FORM = {
    "name": "flaky",
    "status_code": "200",
    "delay_ms": "0",
    "fail_first": "2",
    "fail_status": "503",
    "response_content_type": "application/json",
    "response_body": '{"ok": true}',
}


# --- List, create, edit ---------------------------------------------------------------------------------------


def test_no_inboxes_says_what_to_do(web):
    page = page_of(web.get(reverse("inboxes:list")))
    assert "No inboxes yet" in page and reverse("inboxes:create") in page


def test_the_list_shows_each_url_with_a_copy_button_how_it_answers_and_who_sends_to_it(web, producer):
    inbox = inbox_create(owner=producer, name="Demo", fail_first=2, delay_ms=1500)
    url = inbox_url(inbox)
    configuration_create(owner=producer, name="To the inbox", events=["PURCHASE_APPROVED"], url=url)
    lonely = inbox_create(owner=producer, name="Lonely")
    page = page_of(web.get(reverse("inboxes:list")))
    assert url in page and f'data-copy="#inbox-url-{inbox.pk}"' in page
    assert "200 after 1.5 s, but 500 to the first 2 requests" in page
    assert "To the inbox" in page
    create_link = f"{reverse('configurations:create')}?url={quote(inbox_url(lonely), safe='/')}&amp;name=Lonely"
    assert create_link in page, "an inbox nobody sends to offers to create a configuration with its URL"
    assert f'data-dialog="remove-{inbox.pk}"' in page and f'id="remove-{inbox.pk}"' in page


def test_the_configuration_form_can_start_from_an_inbox_url(web, producer):
    inbox = inbox_create(owner=producer, name="Demo")
    page = page_of(web.get(reverse("configurations:create"), {"url": inbox_url(inbox), "name": "Demo"}))
    assert f'value="{inbox_url(inbox)}"' in page and 'value="Demo"' in page


def test_creating_an_inbox_leads_to_its_page(web, producer):
    response = web.post(reverse("inboxes:create"), FORM)
    inbox = Inbox.objects.get()
    assert response.status_code == 302 and response.url == reverse("inboxes:detail", args=[inbox.pk])
    assert (inbox.fail_first, inbox.fail_status, inbox.response_body) == (2, 503, '{"ok": true}')
    page = page_of(web.get(response.url))
    assert "Nothing caught yet" in page and inbox_url(inbox) in page and "200, but 503 to the first 2" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "id_name", "Give the inbox a name."),
        ({"status_code": "700"}, "id_status_code", "From 200 to 599; got 700."),
        ({"status_code": "abc"}, "id_status_code", "A whole number."),
        ({"fail_status": "99"}, "id_fail_status", "From 200 to 599"),
        ({"delay_ms": "999999"}, "id_delay_ms", "milliseconds (INBOX_MAX_DELAY)"),
        ({"fail_first": "-1"}, "id_fail_first", "From 0 to 10000"),
        ({"fail_first": ""}, "id_fail_first", "Give a number (0 for none)."),
        ({"response_content_type": "a\nb"}, "id_response_content_type", "A media type"),
        ({"response_body": "x" * (64 * 1024 + 1)}, "id_response_body", "At most 64 KiB."),
    ],
)
def test_every_inbox_error_is_shown_under_its_field(web, data, field, message):
    page = page_after(web.post(reverse("inboxes:create"), {**FORM, **data}, follow=True))
    assert message in error_under(page, field)
    assert 'aria-invalid="true"' in page
    assert not Inbox.objects.exists()


def test_a_name_already_taken_is_refused(web, producer):
    inbox_create(owner=producer, name="flaky")
    page = page_after(web.post(reverse("inboxes:create"), FORM, follow=True))
    assert "You already have an inbox named 'flaky'." in error_under(page, "id_name")


def test_editing_changes_only_what_changed_and_a_new_fail_first_restarts_its_count(web, producer):
    inbox = inbox_create(owner=producer, name="flaky", fail_first=2)
    client = Client()
    send(client, inbox)
    inbox.refresh_from_db()
    assert inbox.received_count == 1
    form = page_of(web.get(reverse("inboxes:edit", args=[inbox.pk])))
    assert 'value="flaky"' in form and 'name="fail_first"' in form

    data = {**FORM, "fail_first": "2", "fail_status": "500", "response_body": inbox.response_body, "delay_ms": "250"}
    response = web.post(reverse("inboxes:edit", args=[inbox.pk]), data)
    assert response.status_code == 302
    inbox.refresh_from_db()
    assert inbox.delay_ms == 250 and inbox.received_count == 1, "the fail-first count goes on"

    response = web.post(reverse("inboxes:edit", args=[inbox.pk]), {**data, "fail_first": "3"})
    inbox.refresh_from_db()
    assert inbox.fail_first == 3 and inbox.received_count == 0
    assert "Its fail-first count starts again." in page_of(web.get(response.url))


# --- Requests -------------------------------------------------------------------------------------------------


def test_the_requests_show_masked_headers_an_escaped_body_and_the_truncated_flag(web, producer, settings):
    settings.INBOX = {**settings.INBOX, "MAX_BODY_BYTES": 2048}
    inbox = inbox_create(owner=producer, name="catcher")
    client = Client()
    send(client, inbox, json.dumps({"hottok": HOTTOK, "note": "<script>alert(1)</script>"}), path="hook?x=1")
    send(client, inbox, "a" * 3000, content_type="text/plain")
    send(client, inbox, json.dumps({"hottok": HOTTOK, "pad": "x" * 3000}))  # cut at 2 KiB: no longer JSON
    page = page_of(web.get(reverse("inboxes:detail", args=[inbox.pk])))
    first, second, third = InboxRequest.objects.order_by("number")
    assert page.index(f'id="request-{third.pk}"') < page.index(f'id="request-{first.pk}"'), "newest first"
    assert "/hook?x=1" in page and page.count('<span class="tag">truncated</span>') == 2
    assert HOTTOK not in page

    detail = page_of(web.get(reverse("inboxes:request", args=[inbox.pk, first.pk]), **HTMX))
    assert HOTTOK not in detail and "hott…cdef" in detail, "the header and the body's hottok are masked"
    assert "<script>" not in detail and "&lt;script&gt;" in detail, "the body is escaped"
    assert "X-Hotmart-Hottok" in detail and "Content-Type" in detail
    full = page_of(web.get(reverse("inboxes:request", args=[inbox.pk, second.pk])))
    assert "<!doctype html>" in full and "Only the first 2 KiB were kept" in full and "3000 bytes" in full
    cut = page_of(web.get(reverse("inboxes:request", args=[inbox.pk, third.pk]), **HTMX))
    assert HOTTOK not in cut and "hott…cdef" in cut, "a body cut at the cap does not parse, and still hides it"


def live_url_of(page: str) -> str:
    start = page.index('id="inbox-poller" hx-get="') + len('id="inbox-poller" hx-get="')
    return page[start : page.index('"', start)].replace("&amp;", "&")


def test_the_list_polls_adding_new_requests_on_top_and_redraws_after_a_reset(web, producer):
    inbox = inbox_create(owner=producer, name="catcher")
    client = Client()
    page = page_of(web.get(reverse("inboxes:detail", args=[inbox.pk])))
    empty_poll = live_url_of(page)
    assert web.get(empty_poll, **HTMX).status_code == 204, "still nothing caught"

    send(client, inbox)
    redraw = page_of(web.get(empty_poll, **HTMX))
    assert redraw.lstrip().startswith('<div id="inbox-live" hx-swap-oob="true">'), "the empty state is replaced"
    assert web.get(live_url_of(redraw), **HTMX).status_code == 204

    send(client, inbox, path="second")
    response = web.get(live_url_of(redraw), **HTMX)
    added = page_of(response)
    second = InboxRequest.objects.get(number=2)
    assert '<ol hx-swap-oob="afterbegin:#request-list">' in added and f'id="request-{second.pk}"' in added
    assert f'id="request-{second.pk - 1}"' not in added, "only what is new"
    assert "New request #2: POST answered 200." in response["HX-Trigger"]
    assert web.get(live_url_of(added), **HTMX).status_code == 204

    inbox_reset(inbox=inbox)
    after_reset = page_of(web.get(live_url_of(added), **HTMX))
    assert 'id="inbox-live" hx-swap-oob="true"' in after_reset and "Nothing caught yet" in after_reset

    inbox_update(inbox=inbox, status_code=410)  # an edit redraws too (how it answers is in the page)
    assert web.get(live_url_of(after_reset), **HTMX).status_code == 200


def test_requests_list_costs_a_bounded_number_of_queries(web, producer, django_assert_max_num_queries):
    inbox = inbox_create(owner=producer, name="catcher")
    client = Client()
    for _ in range(30):
        send(client, inbox)
    with django_assert_max_num_queries(7):
        page = page_of(web.get(reverse("inboxes:detail", args=[inbox.pk])))
    assert page.count('<li id="request-') == 30
    with django_assert_max_num_queries(6):
        page_of(web.get(reverse("inboxes:list")))


# --- Reset, remove, scoping -----------------------------------------------------------------------------------


def test_reset_and_remove_ask_first_then_do_it(web, producer):
    inbox = inbox_create(owner=producer, name="catcher")
    send(Client(), inbox)
    assert "Reset “catcher”?" in page_of(web.get(reverse("inboxes:reset", args=[inbox.pk])))
    assert InboxRequest.objects.count() == 1
    response = web.post(reverse("inboxes:reset", args=[inbox.pk]))
    assert "1 request forgotten" in page_of(web.get(response.url))
    assert not InboxRequest.objects.exists()

    assert "Remove “catcher”?" in page_of(web.get(reverse("inboxes:remove", args=[inbox.pk])))
    response = web.post(reverse("inboxes:remove", args=[inbox.pk]))
    assert response.url == reverse("inboxes:list") and not Inbox.objects.exists()
    assert Client().post(f"/inbox/{inbox.token}/").status_code == 404


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("inboxes:detail", "get"),
        ("inboxes:edit", "get"),
        ("inboxes:edit", "post"),
        ("inboxes:requests", "get"),
        ("inboxes:reset", "get"),
        ("inboxes:reset", "post"),
        ("inboxes:remove", "get"),
        ("inboxes:remove", "post"),
    ],
)
def test_another_producers_inbox_answers_404(client_for, stranger, producer, name, method):
    inbox = inbox_create(owner=producer, name="mine")
    send(Client(), inbox)
    response = getattr(client_for(stranger), method)(reverse(name, args=[inbox.pk]), FORM)
    assert response.status_code == 404 and "This page does not exist" in response.content.decode()
    inbox.refresh_from_db()
    assert inbox.name == "mine" and InboxRequest.objects.count() == 1


def test_another_producers_request_answers_404_even_through_ones_own_inbox(client_for, web, stranger, producer):
    theirs = inbox_create(owner=stranger, name="theirs")
    mine = inbox_create(owner=producer, name="mine")
    send(Client(), theirs)
    caught = InboxRequest.objects.get()
    assert web.get(reverse("inboxes:request", args=[theirs.pk, caught.pk])).status_code == 404
    assert web.get(reverse("inboxes:request", args=[mine.pk, caught.pk])).status_code == 404
    assert client_for(stranger).get(reverse("inboxes:request", args=[theirs.pk, caught.pk])).status_code == 200


def test_anonymous_users_are_sent_to_login(client, producer):
    inbox = inbox_create(owner=producer, name="mine")
    for url in (reverse("inboxes:list"), reverse("inboxes:create"), reverse("inboxes:detail", args=[inbox.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login") + "?next=")


def test_posts_need_a_csrf_token(producer):
    inbox = inbox_create(owner=producer, name="mine")
    client = Client(enforce_csrf_checks=True)
    client.force_login(producer)
    assert "csrfmiddlewaretoken" in client.get(reverse("inboxes:create")).content.decode()
    assert client.post(reverse("inboxes:create"), FORM).status_code == 403
    assert client.post(reverse("inboxes:remove", args=[inbox.pk])).status_code == 403
    assert Inbox.objects.count() == 1


def test_a_server_with_the_inbox_off_says_so(web, settings):
    settings.INBOX = {**settings.INBOX, "ENABLED": False}
    assert "The inbox is turned off on this server" in page_of(web.get(reverse("inboxes:list")))


def test_a_caught_hotmart_notification_is_listed_with_its_event_and_transaction(web, producer):
    inbox = inbox_create(owner=producer, name="catcher")
    client = Client()
    approved = {"event": "PURCHASE_APPROVED", "data": {"purchase": {"transaction": "HP1234567890"}}}
    send(client, inbox, json.dumps(approved))
    cancelled = {"event": "SUBSCRIPTION_CANCELLATION", "data": {"subscriber": {"code": "SUB42XYZ"}}}
    send(client, inbox, json.dumps(cancelled))
    send(client, inbox, "status=approved&transaction=HP999&hottok=x", content_type="application/x-www-form-urlencoded")
    send(client, inbox, json.dumps({"hello": "world"}))
    send(client, inbox, '{"event": "PURCHASE_APPROVED", "data": ', path="cut")  # not JSON after all

    page = page_of(web.get(reverse("inboxes:detail", args=[inbox.pk])))

    rows = {r.number: page[page.index(f'id="request-{r.pk}"') :] for r in InboxRequest.objects.all()}
    assert 'PURCHASE_APPROVED</strong> <span class="mono">HP1234567890' in rows[1]
    assert 'SUBSCRIPTION_CANCELLATION</strong> <span class="mono">subscriber SUB42XYZ' in rows[2]
    assert '1.0 approved</strong> <span class="mono">HP999' in rows[3]
    for plain in (4, 5):
        assert "request-about" not in rows[plain][: rows[plain].index("</summary>")]


def test_the_old_inbox_address_leads_to_the_inbox_pages(web):
    response = web.get("/inbox/")
    assert response.status_code == 302 and response.url == reverse("inboxes:list")


def test_a_deeply_nested_json_body_is_caught_and_shown_as_text(web, producer):
    """A hostile sender's ``[[[[...`` body: recorded and answered like any other, its page shows the text."""
    inbox = inbox_create(owner=producer, name="catcher")
    deep = "[" * 100_000 + "]" * 100_000
    assert send(Client(raise_request_exception=False), inbox, deep).status_code == 200
    [caught] = InboxRequest.objects.filter(inbox=inbox)
    assert caught.body_size == len(deep) and caught.event_type == ""
    detail = page_of(web.get(reverse("inboxes:request", args=[inbox.pk, caught.pk])))
    assert "[[[[[[[[" in detail
