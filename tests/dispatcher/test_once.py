"""Every state-changing form acts once: a second POST of the same form (its token) does not act again and
answers what the first did; every POST answers with a redirect. These tests post as a browser that ignores the
page's script would (the double-click guard of dashboard.js is tested in tests/e2e/test_round_two_e2e.py)."""

from __future__ import annotations

import re
import threading

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import redirect
from django.test import RequestFactory
from django.urls import reverse

from configurations.models import Configuration
from history.models import Event, Notification
from sales.models import Purchase
from sales.services import transaction_create
from tests.factories import ConfigurationFactory, ProductFactory
from tests.pages import HTMX, page_of, record
from web.dashboard import once

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="once" value="([A-Za-z0-9_-]+)"')


def token_of(page: str, index: int = 0) -> str:
    return TOKEN.findall(page)[index]


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_every_form_of_a_page_gets_its_own_fresh_token(web, producer):
    ProductFactory(owner=producer)
    first = TOKEN.findall(page_of(web.get(reverse("simulator:index"))))
    again = TOKEN.findall(page_of(web.get(reverse("simulator:index"))))
    assert len(first) == 3 and len(set(first)) == 3, "purchase, cart and sample"
    assert not set(first) & set(again), "a new token each time the page is drawn"


def test_a_purchase_sent_twice_is_created_once_and_both_answers_go_to_it(web, producer):
    product = ProductFactory(owner=producer)
    token = token_of(page_of(web.get(reverse("simulator:index"))))
    data = {"product": product.pk, "payment_type": "CREDIT_CARD", "installments": "1", "once": token}

    first = web.post(reverse("simulator:purchase"), data)
    second = web.post(reverse("simulator:purchase"), data)

    purchase = Purchase.objects.get(owner=producer)
    assert Event.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert second.url == first.url and purchase.transaction in first.url
    said = messages_of(second)
    assert said and f"PURCHASE_APPROVED ({purchase.transaction}) recorded" in said[0], "the first's message"


def test_a_refund_sent_twice_refunds_once_and_the_repeat_shows_the_success(web, producer):
    sale = transaction_create(owner=producer, product=ProductFactory(owner=producer)).purchase
    page = page_of(web.get(reverse("simulator:transaction", args=[sale.transaction])))
    data = {"to": "REFUNDED", "once": token_of(page)}

    first = web.post(reverse("simulator:move", args=[sale.transaction]), data)
    second = web.post(reverse("simulator:move", args=[sale.transaction]), data, follow=True)

    sale.refresh_from_db()
    assert sale.status == "REFUNDED" and Event.objects.filter(event_type="PURCHASE_REFUNDED").count() == 1
    assert second.redirect_chain[0][0] == first.url, "where the first went, not back to /move/"
    page = page_of(second)
    assert f"PURCHASE_REFUNDED ({sale.transaction}) recorded" in page
    assert "a final status" not in page and 'class="errorlist' not in page


def test_a_test_post_sent_twice_by_htmx_is_sent_once_and_the_repeat_gets_the_same_result(web, producer):
    configuration = ConfigurationFactory(owner=producer, events=["PURCHASE_APPROVED"])
    token = token_of(page_of(web.get(reverse("configurations:list"))), -1)
    data = {f"t{configuration.pk}-event_type": "PURCHASE_APPROVED", "once": token}
    url = reverse("configurations:test", args=[configuration.pk])

    first = web.post(url, data, **HTMX)
    second = web.post(url, data, **HTMX)

    notification = Notification.objects.get(is_test=True)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content and f"notification #{notification.pk}" in second.content.decode()


def test_a_resend_sent_twice_answers_the_same_both_times(web, producer):
    configuration = ConfigurationFactory(owner=producer, events=["PURCHASE_APPROVED"])
    [notification] = record(producer, event_type="PURCHASE_APPROVED")
    assert notification.configuration_id == configuration.pk
    page = page_of(web.get(reverse("history:detail", args=[notification.pk])))
    data = {"once": token_of(page)}
    url = reverse("history:resend", args=[notification.pk])

    first = web.post(url, data, **HTMX)
    second = web.post(url, data, **HTMX)

    assert first.status_code == second.status_code == 204
    assert second["HX-Trigger"] == first["HX-Trigger"] and "queued" in first["HX-Trigger"]


def test_a_configuration_form_sent_twice_creates_one_and_no_error(web, producer):
    token = token_of(page_of(web.get(reverse("configurations:create"))))
    data = {"name": "Twice", "events": ["PURCHASE_APPROVED"], "scope": "all", "url": "https://example.com/h"}

    web.post(reverse("configurations:create"), {**data, "once": token})
    second = web.post(reverse("configurations:create"), {**data, "once": token}, follow=True)

    assert Configuration.objects.filter(owner=producer).count() == 1
    page = page_of(second)
    assert "You already have a configuration named" not in page and "created" in page


def test_forms_without_a_token_act_each_time_as_before(web, producer):
    product = ProductFactory(owner=producer)
    data = {"product": product.pk, "payment_type": "CREDIT_CARD", "installments": "1"}
    web.post(reverse("simulator:purchase"), data)
    web.post(reverse("simulator:purchase"), data)
    assert Purchase.objects.filter(owner=producer).count() == 2


def test_another_users_token_is_another_form(client_for, producer, stranger):
    ProductFactory(owner=producer)
    mine = ProductFactory(owner=stranger)
    token = token_of(page_of(client_for(producer).get(reverse("simulator:index"))))
    data = {"product": mine.pk, "payment_type": "CREDIT_CARD", "installments": "1", "once": token}
    cache.add(f"dashboard:once:{producer.pk}:{token}", {"redirect": "/elsewhere/", "messages": []}, 60)

    client_for(stranger).post(reverse("simulator:purchase"), data)

    assert Purchase.objects.filter(owner=stranger).count() == 1


# --- The decorator itself, with a view that counts ------------------------------------------------------------


class _User:
    is_authenticated = True
    pk = 424242


def _request(token: str):
    request = RequestFactory().post("/act/", {"once": token})
    request.user = _User()
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_a_repeat_that_comes_while_the_first_still_acts_waits_and_answers_the_same():
    calls = []
    started, release = threading.Event(), threading.Event()

    @once.acts_once
    def view(request):
        calls.append(1)
        started.set()
        release.wait(10)
        return redirect("/done/")

    token = once.new_token()
    first_answer = {}
    first = threading.Thread(target=lambda: first_answer.setdefault("r", view(_request(token))))
    first.start()
    assert started.wait(10)
    repeat = {}
    second = threading.Thread(target=lambda: repeat.setdefault("r", view(_request(token))))
    second.start()
    release.set()  # whether the repeat is already waiting or not, it gets the first's answer
    first.join(10)
    second.join(10)

    assert calls == [1]
    assert repeat["r"].status_code == 302 and repeat["r"].url == first_answer["r"].url == "/done/"


def test_a_first_that_failed_lets_the_repeat_act():
    calls = []

    @once.acts_once
    def view(request):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return HttpResponse("acted")

    token = once.new_token()
    with pytest.raises(RuntimeError):
        view(_request(token))
    assert view(_request(token)).content == b"acted"
    assert len(calls) == 2


def test_anonymous_posts_and_junk_tokens_pass_through():
    calls = []

    @once.acts_once
    def view(request):
        calls.append(1)
        return HttpResponse("ok")

    for token in ("short", "x" * 65, "not a token!"):
        view(_request(token))
        view(_request(token))
    anonymous = _request(once.new_token())
    anonymous.user = AnonymousUser()
    view(anonymous)
    view(anonymous)
    assert len(calls) == 8
