"""History pages: list and filters, keyset pages, live refresh, detail, resend, bulk resend; permissions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from configurations.models import Account
from history import views as history_views
from history.choices import NotificationStatus
from history.models import BulkResend, Notification
from history.publishing import bulk_resend_start, configuration_test_post
from tests.factories import ConfigurationFactory
from tests.pages import HTMX, add_attempt, page_after, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(producer, product, configuration):
    """Twelve notifications: one delivered, one failed, one retrying, the rest pending."""
    notifications = [record(producer, product)[0] for _ in range(12)]
    add_attempt(notifications[0], status=200)
    add_attempt(notifications[1], status=500, body="boom", final=NotificationStatus.FAILED)
    add_attempt(notifications[2], status=503)
    return notifications


def rows(page: str) -> list[int]:
    """The notification ids of a History table, in page order."""
    ids = []
    for chunk in page.split('id="notification-')[1:]:
        ids.append(int(chunk[: chunk.index('"')]))
    return ids


# --- List -----------------------------------------------------------------------------------------------------


def test_history_lists_newest_first_with_code_colour_attempts_and_next_attempt(web, many):
    page = web.get(reverse("history:list")).content.decode()
    assert rows(page) == [n.pk for n in reversed(many)]
    assert '<span class="chip chip--ok" title="HTTP 200">200</span>' in page
    assert '<span class="chip chip--error" title="HTTP 500">500</span>' in page
    assert '<span class="chip chip--error" title="HTTP 503">503</span>' in page
    assert "Receiver" in page and "http://127.0.0.1:9/webhook" in page
    assert f'aria-label="Resend notification {many[0].pk}"' in page


def test_a_failure_without_http_answer_shows_minus_one(web, producer, product, configuration):
    [notification] = record(producer, product)
    add_attempt(notification, status=-1, error_kind="connection_refused", error_message="connection refused")
    page = web.get(reverse("history:list")).content.decode()
    assert "No HTTP answer" in page and ">-1</span>" in page


def test_pages_chain_with_a_cursor_and_never_count_the_table(web, many, monkeypatch):
    monkeypatch.setattr(history_views, "PAGE_SIZE", 5)
    seen = []
    url = reverse("history:list")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            page = web.get(url).content.decode()
            seen += rows(page)
            if 'rel="next"' not in page:
                break
            start = page.index('rel="next" href="') + len('rel="next" href="')
            url = reverse("history:list") + page[start : page.index('"', start)].replace("&amp;", "&")
    assert seen == [n.pk for n in reversed(many)]
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


def test_history_queries_do_not_grow_with_rows(web, many, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        page = web.get(reverse("history:list")).content.decode()
    assert len(rows(page)) == 12


def test_filters(web, producer, product, configuration, many):
    other = ConfigurationFactory(owner=producer, name="Other", events=["PURCHASE_REFUNDED"])
    [refund_mine, refund_other] = record(
        producer, product, event_type="PURCHASE_REFUNDED", buyer_email="Ana@Example.com"
    )

    def ids(**params):
        return set(rows(web.get(reverse("history:list"), params).content.decode()))

    assert ids(status="delivered") == {many[0].pk}
    assert ids(status="failed") == {many[1].pk}
    assert ids(event="PURCHASE_REFUNDED") == {refund_mine.pk, refund_other.pk}
    assert ids(configuration=other.pk) == {
        refund_other.pk if refund_other.configuration_id == other.pk else refund_mine.pk
    }
    assert ids(q="ana@example.com") == {refund_mine.pk, refund_other.pk}
    assert ids(q=refund_mine.event.transaction) == {refund_mine.pk, refund_other.pk}
    Notification.objects.filter(pk=many[3].pk).update(created_at=timezone.now() - timedelta(days=5))
    old_day = (timezone.localdate() - timedelta(days=5)).isoformat()
    assert ids(since=old_day, until=old_day) == {many[3].pk}
    assert many[3].pk not in ids(since=timezone.localdate().isoformat())


def test_test_posts_are_marked_and_can_be_filtered(web, producer, configuration, many):
    test = configuration_test_post(owner=producer, configuration=configuration, event_type="PURCHASE_APPROVED")
    page = web.get(reverse("history:list")).content.decode()
    assert '<span class="tag tag--test">test</span>' in page
    assert set(rows(web.get(reverse("history:list"), {"kind": "test"}).content.decode())) == {test.pk}
    assert test.pk not in rows(web.get(reverse("history:list"), {"kind": "real"}).content.decode())


def test_bad_filters_and_forged_cursors_are_messages_not_errors(web, many):
    response = web.get(reverse("history:list"), {"since": "2024-02-10", "until": "2024-02-01"})
    assert response.status_code == 200 and "The end date is before the start date." in response.content.decode()
    response = web.get(reverse("history:list"), {"status": "nope", "configuration": "x"})
    assert response.status_code == 200 and "Some filters are not valid" in response.content.decode()
    response = web.get(reverse("history:list"), {"cursor": "not-a-cursor"})
    assert response.status_code == 200 and "This page link is not valid" in response.content.decode()


def test_empty_history_says_what_to_do(web, producer):
    assert "Create a configuration" in web.get(reverse("history:list")).content.decode()
    ConfigurationFactory(owner=producer)
    assert "Simulate a sale" in web.get(reverse("history:list")).content.decode()
    assert "Nothing pending" in web.get(reverse("history:pending")).content.decode()
    assert "No delivered notifications yet" in web.get(reverse("history:sent")).content.decode()
    assert "No notifications match" in web.get(reverse("history:list"), {"status": "failed"}).content.decode()


def test_sent_and_pending_posts(web, many):
    assert rows(web.get(reverse("history:sent")).content.decode()) == [many[0].pk]
    pending = set(rows(web.get(reverse("history:pending")).content.decode()))
    assert pending == {n.pk for n in many[2:]}, "new ones and those waiting for a retry"


def test_first_page_polls_and_answers_204_while_nothing_changed(web, producer, product, many):
    page = web.get(reverse("history:list")).content.decode()
    assert "every 2s" in page and "dashboard:refresh from:body" in page
    start = page.index('hx-get="') + len('hx-get="')
    live_url = page[start : page.index('"', start)].replace("&amp;", "&")

    assert web.get(live_url, **HTMX).status_code == 204

    add_attempt(many[5], status=200)
    fragment = web.get(live_url, **HTMX)
    assert fragment.status_code == 200
    assert 'id="history-live"' in fragment.content.decode() and "<html" not in fragment.content.decode()
    assert f'data-live-text="Notification {many[5].pk}, PURCHASE_APPROVED: Delivered, HTTP 200"' in (
        fragment.content.decode()
    )
    record(producer, product)
    assert web.get(live_url, **HTMX).status_code == 200, "a new notification changes the first page"


def test_an_older_page_with_nothing_open_does_not_poll(web, many, monkeypatch):
    for n in Notification.objects.filter(status__in=[NotificationStatus.PENDING, NotificationStatus.RETRYING]):
        add_attempt(n, status=200, manual=True)
    monkeypatch.setattr(history_views, "PAGE_SIZE", 5)
    first = web.get(reverse("history:list")).content.decode()
    start = first.index('rel="next" href="') + len('rel="next" href="')
    older = web.get(reverse("history:list") + first[start : first.index('"', start)].replace("&amp;", "&"))
    assert "every 2s" not in older.content.decode()


# --- Detail ---------------------------------------------------------------------------------------------------


def test_detail_shows_payload_pretty_and_raw_headers_and_every_attempt(web, many):
    notification = many[1]
    add_attempt(notification, status=200, body="<script>alert(1)</script>", manual=True)
    page = web.get(reverse("history:detail", args=[notification.pk])).content.decode()

    payload = json.loads(notification.payload)
    assert json.dumps(payload, indent=2, ensure_ascii=False).replace('"', "&quot;") in page, "pretty JSON"
    raw = notification.payload.replace('"', "&quot;")
    assert raw in page, "the exact bytes"
    assert "Attempt 1" in page and "Attempt 2" in page and "Manual resend" in page and "Automatic" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "X-HOTMART-HOTTOK" in page and "Response headers" in page
    assert "42 ms" in page


def test_detail_masks_a_hottok_inside_the_body(web, producer, configuration):
    subscription = ConfigurationFactory(owner=producer, name="Subs", events=["UPDATE_SUBSCRIPTION_CHARGE_DATE"])
    from tests.factories import ProductFactory

    [notification] = record(
        producer, ProductFactory(owner=producer, is_subscription=True), event_type="UPDATE_SUBSCRIPTION_CHARGE_DATE"
    )
    assert notification.configuration_id == subscription.pk
    hottok = Account.objects.get(user=producer).hottok
    assert hottok in notification.payload, "Hotmart puts it in this event's body"
    page = web.get(reverse("history:detail", args=[notification.pk])).content.decode()
    assert hottok not in page
    assert f"{hottok[:4]}…{hottok[-4:]}" in page and "hottok in the body is masked" in page


def test_detail_of_a_notification_without_attempt_previews_the_headers_masked(web, producer, many):
    hottok = Account.objects.get(user=producer).hottok
    page = web.get(reverse("history:detail", args=[many[7].pk])).content.decode()
    assert "What the first attempt will send." in page and "No attempt yet" in page
    assert hottok not in page and f"{hottok[:4]}…{hottok[-4:]}" in page


def test_detail_polls_while_open_and_stops_when_final(web, many):
    open_page = web.get(reverse("history:detail", args=[many[2].pk])).content.decode()
    assert "every 2s" in open_page
    final_page = web.get(reverse("history:detail", args=[many[0].pk])).content.decode()
    assert "every 2s" not in final_page


def test_detail_fragment_is_204_until_something_changes(web, many):
    page = web.get(reverse("history:detail", args=[many[2].pk])).content.decode()
    start = page.index('hx-get="') + len('hx-get="')
    live_url = page[start : page.index('"', start)].replace("&amp;", "&")
    assert web.get(live_url, **HTMX).status_code == 204
    add_attempt(many[2], status=200)
    fragment = web.get(live_url, **HTMX).content.decode()
    assert "Attempt 2" in fragment and "every 2s" not in fragment


def test_detail_queries_are_bounded(web, many, django_assert_max_num_queries):
    for _ in range(6):
        add_attempt(many[2], status=503)
    with django_assert_max_num_queries(6):
        web.get(reverse("history:detail", args=[many[2].pk]))


# --- Resend ---------------------------------------------------------------------------------------------------


def test_resend_from_htmx_queues_a_manual_attempt_and_tells_the_page(web, many):
    response = web.post(reverse("history:resend", args=[many[1].pk]), **HTMX)
    assert response.status_code == 204
    trigger = json.loads(response["HX-Trigger"])
    assert "dashboard:refresh" in trigger and "queued" in trigger["dashboard:announce"]["value"]
    assert Notification.objects.get(pk=many[1].pk).resend_requested_at is not None
    page = web.get(reverse("history:list")).content.decode()
    assert "resend queued" in page and f'id="resend-{many[1].pk}" class="btn btn-icon btn-ghost"' in page


def test_resend_without_javascript_goes_back(web, many):
    response = web.post(reverse("history:resend", args=[many[1].pk]), {"next": "/history/?status=failed"})
    assert response.status_code == 302 and response.url == "/history/?status=failed"
    response = web.post(reverse("history:resend", args=[many[2].pk]), {"next": "https://evil.example/"})
    assert response.url == reverse("history:detail", args=[many[2].pk]), "never off-site"


def test_resending_when_the_configuration_was_removed_is_a_message(web, producer, product, configuration):
    [notification] = record(producer, product)
    from history.publishing import configuration_remove

    configuration_remove(configuration=configuration)
    response = web.post(reverse("history:resend", args=[notification.pk]), follow=True)
    assert response.status_code == 200 and "there is no URL to send it to" in response.content.decode()


# --- Test result fragment -------------------------------------------------------------------------------------


def test_test_result_shows_code_time_and_response_excerpt_once_answered(web, producer, configuration):
    test = configuration_test_post(owner=producer, configuration=configuration, event_type="PURCHASE_APPROVED")
    waiting = web.get(reverse("history:result", args=[test.pk]), **HTMX).content.decode()
    assert "Sending" in waiting and "every 1s" in waiting
    add_attempt(test, status=200, body='{"received": true}')
    done = web.get(reverse("history:result", args=[test.pk]), **HTMX).content.decode()
    assert "Test post delivered" in done and "42 ms" in done and "received" in done and "every 1s" not in done


# --- Bulk resend ----------------------------------------------------------------------------------------------


def test_bulk_resend_form_starts_a_job_and_shows_its_progress(web, producer, configuration, many):
    form = web.get(reverse("history:bulk_new"), {"configuration": configuration.pk}).content.decode()
    assert "Start bulk resend" in form and 'type="datetime-local"' in form
    now = timezone.localtime()
    response = web.post(
        reverse("history:bulk_new"),
        {
            "configuration": configuration.pk,
            "window_start": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "window_end": (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
            "statuses": ["failed"],
        },
    )
    job = BulkResend.objects.get()
    assert response.status_code == 302 and job.total == 1 and job.statuses == ["failed"]
    page = web.get(response.url).content.decode()
    assert "0</strong> of 1 resends requested" in page and "every 1s" in page
    assert web.get(reverse("history:bulk_list")).content.decode().count(f"#{job.pk}") == 1


def test_bulk_resend_form_errors(web, configuration):
    response = web.post(
        reverse("history:bulk_new"),
        {"configuration": configuration.pk, "window_start": "2024-02-10T10:00", "window_end": "2024-02-01T10:00"},
        follow=True,
    )
    page = page_after(response)
    assert "The window ends before it starts." in page and 'value="2024-02-10T10:00"' in page
    assert "Choose which notifications to resend" in page
    assert not BulkResend.objects.exists()


def test_bulk_progress_fragment_stops_polling_when_done(web, producer, configuration, many):
    now = timezone.now()
    job = bulk_resend_start(
        owner=producer, configuration=configuration, window_start=now - timedelta(hours=1), window_end=now
    )
    BulkResend.objects.filter(pk=job.pk).update(status="done", requested=0, total=0)
    fragment = web.get(reverse("history:bulk_detail", args=[job.pk]), **HTMX).content.decode()
    assert "Finished" in fragment and "every 1s" not in fragment


# --- Permissions ----------------------------------------------------------------------------------------------


def test_another_producers_notifications_and_jobs_answer_404(client_for, stranger, producer, configuration, many):
    now = timezone.now()
    job = bulk_resend_start(
        owner=producer, configuration=configuration, window_start=now - timedelta(hours=1), window_end=now
    )
    other = client_for(stranger)
    assert other.get(reverse("history:detail", args=[many[0].pk])).status_code == 404
    assert other.get(reverse("history:result", args=[many[0].pk])).status_code == 404
    assert other.post(reverse("history:resend", args=[many[0].pk])).status_code == 404
    assert Notification.objects.get(pk=many[0].pk).resend_requested_at is None
    assert other.get(reverse("history:bulk_detail", args=[job.pk])).status_code == 404
    assert other.get(reverse("history:bulk_new"), {"configuration": configuration.pk}).status_code == 404
    assert other.get(reverse("history:list")).content.decode().count('id="notification-') == 0
    filtered = other.get(reverse("history:list"), {"configuration": configuration.pk})
    assert filtered.status_code == 200 and 'id="notification-' not in filtered.content.decode()


@pytest.mark.parametrize("name", ["history:list", "history:sent", "history:pending", "history:bulk_list"])
def test_anonymous_users_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_anonymous_users_cannot_see_a_notification(client, many):
    response = client.get(reverse("history:detail", args=[many[0].pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
