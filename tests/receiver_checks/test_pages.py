"""The dashboard's receiver check: the buttons and form, one check however often the form is sent, clear form
errors, and the report card with its links to History."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from history.models import Notification
from receiver_checks import services
from receiver_checks.models import ReceiverCheck
from tests.factories import ConfigurationFactory
from tests.pages import HTMX, error_under, page_of
from tests.receiver_checks.receivers import Receiver

pytestmark = pytest.mark.django_db
START = reverse("receiver_checks:start")


def key_in(page: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page).group(1)


def test_each_configuration_has_a_check_receiver_button_that_starts_one_check_per_click(web, producer):
    configuration = ConfigurationFactory(owner=producer, name="Members area")
    page = page_of(web.get(reverse("configurations:list")))
    assert "Check receiver" in page
    key = key_in(page)

    first = web.post(START, {"configuration": configuration.pk, "idempotency_key": key})
    second = web.post(START, {"configuration": configuration.pk, "idempotency_key": key})  # a double click

    [run] = ReceiverCheck.objects.all()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("receiver_checks:detail", args=[run.pk])
    assert run.configuration == configuration
    report = page_of(web.get(first["Location"]))
    assert "Receiver check #" in report and "Members area" in report and "Waiting for a worker" in report


def test_the_simulator_offers_to_check_a_bare_url(web):
    page = page_of(web.get(reverse("simulator:index")))
    assert 'id="check-url-form"' in page and 'action="/receiver-checks/start/"' in page


@pytest.mark.parametrize(
    ("url", "message"),
    [("", "Enter the URL to check"), ("ftp://example.com/x", "http:// or https://"), ("http://a b/", "spaces")],
)
def test_a_bad_url_is_shown_under_the_field_and_nothing_starts(web, url, message):
    response = web.post(START, {"url": url, "payload_version": "2.0.0", "idempotency_key": "a" * 32})
    assert response.status_code == 400
    assert message in error_under(response.content.decode(), "id_url")
    assert not ReceiverCheck.objects.exists()


def test_someone_elses_configuration_cannot_be_checked(web, stranger):
    theirs = ConfigurationFactory(owner=stranger)
    assert web.post(START, {"configuration": theirs.pk}).status_code == 404
    assert not ReceiverCheck.objects.exists()


def test_too_many_checks_at_once_is_said_above_the_form(web, producer):
    for n in range(services.MAX_IN_FLIGHT):
        services.receiver_check_start(owner=producer, url=f"http://127.0.0.1:9/{n}")
    response = web.post(START, {"url": "http://127.0.0.1:9/more", "idempotency_key": ""})
    assert response.status_code == 400
    assert "wait for one of them to finish" in response.content.decode()


def test_the_report_card_grades_each_check_and_links_to_history(web, producer):
    with Receiver(producer.webhook_account.hottok, fails_repeats=True) as receiver:
        run, _ = services.receiver_check_start(owner=producer, url=receiver.url, enqueue=False)
        services.receiver_check_run(check_id=run.pk)
    url = reverse("receiver_checks:detail", args=[run.pk])

    page = page_of(web.get(url))
    assert "Failed" in page and "1 failed, 0 warnings, 25 passed" in page
    repeat = run.results.get(key="repeat")
    section = page[page.index('id="check-repeat"') :]
    section = section[: section.index("</li>")]
    assert 'data-grade="fail"' in section and "How to fix:" in section
    assert reverse("history:detail", args=[repeat.notification_ids[0]]) in section
    assert producer.webhook_account.hottok not in page
    # Finished: it no longer polls, and a poll with its fingerprint has nothing new.
    assert "every 1s" not in page
    fp = re.search(r'hx-get="[^"]*fp=([0-9a-f]+)"', page).group(1)
    assert web.get(url, {"fp": fp}, **HTMX).status_code == 204

    # In History: the URL in place of a configuration, no resend arrow.
    history = page_of(web.get(reverse("history:list")))
    assert "Receiver check" in history and receiver.url in history
    some = Notification.objects.filter(owner=producer).first()
    assert f'id="resend-{some.pk}"' not in history
    detail = page_of(web.get(reverse("history:detail", args=[some.pk])))
    assert "a receiver check of this URL; it cannot be resent" in detail and 'id="resend-button"' not in detail


def test_a_running_report_polls_itself(web, producer):
    run, _ = services.receiver_check_start(owner=producer, url="http://127.0.0.1:9/x")
    page = page_of(web.get(reverse("receiver_checks:detail", args=[run.pk])))
    assert "every 1s" in page and "Queued" in page


def test_the_list_shows_the_latest_checks_and_another_producers_report_is_404(web, producer, client_for, stranger):
    run, _ = services.receiver_check_start(owner=producer, url="http://127.0.0.1:9/mine")
    page = page_of(web.get(reverse("receiver_checks:list")))
    assert f'id="check-{run.pk}"' in page and "http://127.0.0.1:9/mine" in page
    theirs = client_for(stranger)
    assert theirs.get(reverse("receiver_checks:detail", args=[run.pk])).status_code == 404
    assert "127.0.0.1:9/mine" not in page_of(theirs.get(reverse("receiver_checks:list")))


def test_backticked_code_is_shown_as_code_and_everything_else_escaped():
    from receiver_checks.templatetags.receiver_checks import ticks

    assert ticks("Deduplicate on `id` <now>") == "Deduplicate on <code>id</code> &lt;now&gt;"
    assert ticks("a `b` <i>`c`</i>") == "a <code>b</code> &lt;i&gt;<code>c</code>&lt;/i&gt;"
    assert ticks("one ` alone <b>") == "one ` alone &lt;b&gt;"
