"""Configuration pages: list, form, enable/disable/remove, test posts, the hottok; permissions and CSRF."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from configurations.models import Account, Configuration
from history.choices import NotificationStatus
from history.models import BulkResend, Notification
from history.publishing import configuration_stop
from tests.factories import ConfigurationFactory, ProductFactory
from tests.pages import HTMX, add_attempt, page_after, page_of, record

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {"name": "Members area", "events": ["PURCHASE_APPROVED"], "scope": "all", "url": "https://example.com/hook"}
    data.update(overrides)
    return data


# --- List ---------------------------------------------------------------------------------------------------


def test_list_shows_each_configuration_with_scope_url_and_last_result(web, producer, product):
    ConfigurationFactory(owner=producer, name="LMS", url="https://lms.example.com/hook", product=product)
    everything = ConfigurationFactory(owner=producer, name="CRM", events=["PURCHASE_APPROVED"])
    [notification] = [n for n in record(producer, product) if n.configuration_id == everything.pk]
    add_attempt(notification, status=503, body="busy")

    page = web.get(reverse("configurations:list")).content.decode()

    assert "LMS" in page and "https://lms.example.com/hook" in page and product.name in page
    assert "CRM" in page and "All products" in page
    assert "503" in page and "chip--error" in page, "the last delivery's code, coloured"


def test_empty_list_says_what_to_do(web):
    page = web.get(reverse("configurations:list")).content.decode()
    assert "No configurations yet" in page and reverse("configurations:create") in page


def test_a_disabled_configuration_shows_a_banner_with_reason_and_time(web, producer):
    configuration = ConfigurationFactory(owner=producer, name="Dead")
    configuration_stop(configuration_id=configuration.pk, reason="All 5 attempts found the URL in error")

    response = web.get(reverse("configurations:list"))

    banner = f'id="disabled-banner-{configuration.pk}"'
    assert banner in response.content.decode()
    assert "All 5 attempts found the URL in error" in response.content.decode()
    assert 'role="alert"' in response.content.decode()


def test_list_queries_do_not_grow_with_the_number_of_configurations(
    web, producer, product, django_assert_max_num_queries
):
    for n in range(12):
        ConfigurationFactory(owner=producer, name=f"c{n}", product=product if n % 2 else None)
    record(producer, product)
    with django_assert_max_num_queries(8):
        response = web.get(reverse("configurations:list"))
    assert response.content.decode().count('class="card card-body config') == 12


# --- Form ---------------------------------------------------------------------------------------------------


def test_create_saves_and_lists_it(web, producer):
    response = web.post(reverse("configurations:create"), form_data(events=["PURCHASE_APPROVED", "CLUB_FIRST_ACCESS"]))
    assert response.status_code == 302
    configuration = Configuration.objects.get(owner=producer)
    assert configuration.events == ["PURCHASE_APPROVED", "CLUB_FIRST_ACCESS"] and configuration.product is None
    assert "Members area" in web.get(response.url).content.decode()


def test_form_groups_the_event_checkboxes(web):
    page = web.get(reverse("configurations:create")).content.decode()
    for group in ("Purchases", "Cart", "Subscriptions", "Members area"):
        assert f"<h3>{group}</h3>" in page
    assert page.count('type="checkbox" name="events"') == 15


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "must start with http:// or https://"),
        ("https://user:pw@example.com/", "must not contain a user name or password"),
        ("", "Enter the URL"),
        ("https://exa mple.com/", "contains spaces"),
    ],
)
def test_a_bad_url_is_refused_with_a_message_that_says_what_is_wrong(web, producer, url, message):
    response = web.post(reverse("configurations:create"), form_data(url=url), follow=True)
    page = page_after(response)
    assert response.redirect_chain[-1][0] == reverse("configurations:create"), "back to the form, a GET"
    assert message in page
    assert 'aria-invalid="true"' in page
    assert f'value="{url}"' in page, "what was typed is kept"
    assert not Configuration.objects.filter(owner=producer).exists()
    assert message not in web.get(reverse("configurations:create")).content.decode(), "shown once"


def test_every_error_of_the_form_shows_at_once(web):
    page = page_after(
        web.post(reverse("configurations:create"), form_data(events=[], url="ftp://x.example/"), follow=True)
    )
    assert "Choose at least one event." in page and "must start with http:// or https://" in page


def test_no_event_and_duplicate_name_are_form_errors(web, producer):
    ConfigurationFactory(owner=producer, name="Taken")
    page = page_after(web.post(reverse("configurations:create"), form_data(events=[]), follow=True))
    assert "Choose at least one event." in page
    page = page_after(web.post(reverse("configurations:create"), form_data(name="Taken"), follow=True))
    assert "You already have a configuration named" in page


def test_one_product_scope_needs_one_of_my_products(web, producer, stranger):
    mine = ProductFactory(owner=producer)
    theirs = ProductFactory(owner=stranger)
    page = page_after(web.post(reverse("configurations:create"), form_data(scope="product"), follow=True))
    assert "Choose the product" in page
    page = page_after(
        web.post(reverse("configurations:create"), form_data(scope="product", product=theirs.pk), follow=True)
    )
    assert "Choose one of your products." in page
    assert web.post(reverse("configurations:create"), form_data(scope="product", product=mine.pk)).status_code == 302
    assert Configuration.objects.get(owner=producer).product == mine


def test_edit_changes_it_and_keeps_an_active_one_active(web, configuration):
    response = web.post(reverse("configurations:edit", args=[configuration.pk]), form_data(url="https://new.example/h"))
    assert response.status_code == 302
    configuration.refresh_from_db()
    assert configuration.url == "https://new.example/h" and configuration.is_active


def test_editing_a_disabled_one_offers_to_enable_it(web, configuration):
    configuration_stop(configuration_id=configuration.pk, reason="URL broken")
    page = web.get(reverse("configurations:edit", args=[configuration.pk])).content.decode()
    assert "Save and enable" in page and "Save, keep disabled" in page and "URL broken" in page

    web.post(reverse("configurations:edit", args=[configuration.pk]), form_data())
    configuration.refresh_from_db()
    assert not configuration.is_active, "plain save keeps it disabled"
    assert configuration.disabled_reason == "URL broken"

    web.post(reverse("configurations:edit", args=[configuration.pk]), form_data(enable="1"))
    configuration.refresh_from_db()
    assert configuration.is_active and configuration.disabled_reason == ""


# --- Enable, disable, remove --------------------------------------------------------------------------------


def test_disable_asks_first_then_stops_pending_notifications(web, producer, product, configuration):
    [notification] = record(producer, product)
    confirm = web.get(reverse("configurations:disable", args=[configuration.pk]))
    assert confirm.status_code == 200 and "pending notifications are cancelled" in confirm.content.decode()
    configuration.refresh_from_db()
    assert configuration.is_active, "GET changes nothing"

    response = web.post(reverse("configurations:disable", args=[configuration.pk]), follow=True)

    configuration.refresh_from_db()
    assert not configuration.is_active and configuration.disabled_reason == "Disabled by its owner."
    assert Notification.objects.get(pk=notification.pk).status == NotificationStatus.CANCELLED
    assert "1 pending notification cancelled" in response.content.decode()


def test_enabling_offers_a_bulk_resend_of_what_failed_or_was_cancelled_meanwhile(web, producer, product, configuration):
    delivered, failed, cancelled = (record(producer, product)[0] for _ in range(3))
    add_attempt(delivered, status=200)
    add_attempt(failed, status=-1, error_kind="connection_refused", final=NotificationStatus.FAILED)
    configuration_stop(configuration_id=configuration.pk, reason="URL broken")  # cancels the third

    response = web.post(reverse("configurations:enable", args=[configuration.pk]), follow=True)

    page = response.content.decode()
    configuration.refresh_from_db()
    assert configuration.is_active
    assert "2 notifications failed or were cancelled" in page and "Resend 2" in page
    assert "Resend 2" in web.get(reverse("configurations:list")).content.decode(), "still offered after a reload"

    # Accepting the offer starts the job with what the offer carried.
    offer = {
        "configuration": configuration.pk,
        "window_start": _hidden(page, "window_start"),
        "window_end": _hidden(page, "window_end"),
        "statuses": ["failed", "cancelled"],
    }
    started = web.post(reverse("history:bulk_new"), offer)
    job = BulkResend.objects.get(configuration=configuration)
    assert started.status_code == 302 and started.url == reverse("history:bulk_detail", args=[job.pk])
    assert job.total == 2 and sorted(job.statuses) == ["cancelled", "failed"]
    assert {failed.pk, cancelled.pk} == set(
        Notification.objects.filter(configuration=configuration, status__in=job.statuses).values_list("pk", flat=True)
    )
    assert "Resend 2" not in web.get(reverse("configurations:list")).content.decode(), "taken: offered no more"


def test_the_resend_offer_stays_until_declined_and_comes_back_when_enabled_again(web, producer, product, configuration):
    failed = record(producer, product)[0]
    add_attempt(failed, status=-1, error_kind="connection_refused", final=NotificationStatus.FAILED)
    configuration_stop(configuration_id=configuration.pk, reason="URL broken")
    web.post(reverse("configurations:enable", args=[configuration.pk]))
    list_url = reverse("configurations:list")
    assert "Resend 1" in web.get(list_url).content.decode()
    assert "Resend 1" in web.get(list_url).content.decode(), "a reload keeps it"

    # Disabled and enabled again: the failure is still not resent, so it is offered again.
    configuration_stop(configuration_id=configuration.pk, reason="paused")
    assert "Resend 1" not in web.get(list_url).content.decode(), "not while it is disabled"
    web.post(reverse("configurations:enable", args=[configuration.pk]))
    assert "Resend 1" in web.get(list_url).content.decode()

    # "Not now" withdraws it, for good.
    page = page_after(web.post(reverse("configurations:resend_offer_dismiss", args=[configuration.pk]), follow=True))
    assert "Resend 1" not in page and "No resend for" in page
    assert "Resend 1" not in web.get(list_url).content.decode()
    assert not BulkResend.objects.exists()


def test_enabling_with_nothing_missed_offers_nothing(web, configuration):
    configuration_stop(configuration_id=configuration.pk, reason="paused")
    page = web.post(reverse("configurations:enable", args=[configuration.pk]), follow=True).content.decode()
    assert "enabled" in page and "failed or" not in page


def _hidden(page: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_remove_asks_first_then_removes_and_keeps_history(web, producer, product, configuration):
    [notification] = record(producer, product)
    page = web.get(reverse("configurations:remove", args=[configuration.pk])).content.decode()
    assert "This cannot be undone" in page
    assert Configuration.objects.filter(pk=configuration.pk).exists()

    web.post(reverse("configurations:remove", args=[configuration.pk]))

    assert not Configuration.objects.filter(pk=configuration.pk).exists()
    assert Notification.objects.get(pk=notification.pk).status == NotificationStatus.CANCELLED


def test_list_has_confirmation_dialogs_for_remove_and_disable(web, configuration):
    page = web.get(reverse("configurations:list")).content.decode()
    assert f'<dialog id="remove-{configuration.pk}"' in page and f'<dialog id="disable-{configuration.pk}"' in page
    assert f'data-dialog="remove-{configuration.pk}"' in page


# --- Test posts ---------------------------------------------------------------------------------------------


def test_test_post_from_htmx_answers_an_inline_result_that_polls(web, configuration):
    response = web.post(
        reverse("configurations:test", args=[configuration.pk]),
        {f"t{configuration.pk}-event_type": "SWITCH_PLAN"},
        **HTMX,
    )
    notification = Notification.objects.get(configuration=configuration)
    assert notification.is_test and notification.event_type == "SWITCH_PLAN"
    fragment = response.content.decode()
    assert reverse("history:result", args=[notification.pk]) in fragment and 'hx-trigger="every 1s"' in fragment


def test_test_post_without_javascript_goes_to_the_notification(web, configuration):
    response = web.post(
        reverse("configurations:test", args=[configuration.pk]),
        {f"t{configuration.pk}-event_type": "PURCHASE_APPROVED"},
    )
    notification = Notification.objects.get(configuration=configuration)
    assert response.status_code == 302 and response.url == reverse("history:detail", args=[notification.pk])


def test_test_post_with_an_unknown_event_is_a_message_not_an_error(web, configuration):
    response = web.post(
        reverse("configurations:test", args=[configuration.pk]), {f"t{configuration.pk}-event_type": "X"}
    )
    assert response.status_code == 302
    assert not Notification.objects.exists()


# --- Hottok -------------------------------------------------------------------------------------------------


def test_hottok_is_masked_everywhere_until_revealed(web, producer, configuration):
    hottok = Account.objects.get(user=producer).hottok
    for name in ("overview", "documentation", "configurations:list", "configurations:hottok"):
        assert hottok not in web.get(reverse(name)).content.decode(), name
    assert hottok[:4] + "…" + hottok[-4:] in web.get(reverse("documentation")).content.decode()

    revealed = web.post(reverse("configurations:hottok_reveal"), **HTMX)

    assert hottok in revealed.content.decode()
    assert "no-store" in revealed["Cache-Control"]
    assert hottok in web.post(reverse("configurations:hottok_reveal")).content.decode(), "without JavaScript too"


def test_reveal_needs_a_post(web, producer):
    assert web.get(reverse("configurations:hottok_reveal")).status_code == 405


def test_regenerate_asks_first_then_replaces_the_token(web, producer):
    old = Account.objects.get(user=producer).hottok
    assert "Regenerate your hottok?" in web.get(reverse("configurations:hottok_regenerate")).content.decode()
    assert Account.objects.get(user=producer).hottok == old

    response = web.post(reverse("configurations:hottok_regenerate"))

    new = Account.objects.get(user=producer).hottok
    assert response.status_code == 302 and new != old and len(new) == 40
    assert new not in web.get(response.url).content.decode()


# --- Permissions and CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("configurations:edit", "get"),
        ("configurations:edit", "post"),
        ("configurations:enable", "post"),
        ("configurations:disable", "get"),
        ("configurations:disable", "post"),
        ("configurations:remove", "get"),
        ("configurations:remove", "post"),
        ("configurations:test", "post"),
    ],
)
def test_another_producers_configuration_answers_404(client_for, stranger, configuration, name, method):
    response = getattr(client_for(stranger), method)(reverse(name, args=[configuration.pk]), form_data())
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode(), "the styled 404 page"
    configuration.refresh_from_db()
    assert configuration.is_active and configuration.name == "Receiver"


@pytest.mark.parametrize(
    "url",
    ["configurations:list", "configurations:create", "configurations:hottok", "configurations:hottok_regenerate"],
)
def test_anonymous_users_are_sent_to_login(client, url):
    response = client.get(reverse(url))
    assert response.status_code == 302 and response.url.startswith(reverse("login") + "?next=")


def test_forms_carry_a_csrf_token_and_posts_without_one_are_refused(producer, configuration):
    client = Client(enforce_csrf_checks=True)
    client.force_login(producer)
    assert "csrfmiddlewaretoken" in client.get(reverse("configurations:create")).content.decode()
    response = client.post(reverse("configurations:remove", args=[configuration.pk]))
    assert response.status_code == 403 and "This form has expired" in response.content.decode()
    assert Configuration.objects.filter(pk=configuration.pk).exists()


# --- Round two: payload version, a reason to disable, REST hooks, a test post's events ------------------------


def test_the_form_chooses_the_payload_version_and_the_legacy_one_takes_purchase_events_only(web, producer):
    form = page_of(web.get(reverse("configurations:create")))
    assert 'name="payload_version" value="2.0.0"' in form and 'name="payload_version" value="1.0"' in form

    web.post(reverse("configurations:create"), form_data(name="Legacy", payload_version="1.0"))
    assert Configuration.objects.get(name="Legacy").payload_version == "1.0"

    page = page_after(
        web.post(
            reverse("configurations:create"),
            form_data(name="Mixed", payload_version="1.0", events=["PURCHASE_APPROVED", "SWITCH_PLAN"]),
            follow=True,
        )
    )
    assert "The legacy 1.0 postback carries purchase events only" in page
    assert not Configuration.objects.filter(name="Mixed").exists()

    legacy = Configuration.objects.get(name="Legacy")
    edit = page_of(web.get(reverse("configurations:edit", args=[legacy.pk])))
    assert 'value="1.0" id="id_payload_version_1" checked' in edit
    web.post(reverse("configurations:edit", args=[legacy.pk]), form_data(name="Legacy", payload_version="2.0.0"))
    legacy.refresh_from_db()
    assert legacy.payload_version == "2.0.0"


def test_disabling_takes_a_reason_that_the_list_then_shows(web, producer, configuration):
    dialog = page_of(web.get(reverse("configurations:list")))
    assert f'id="id_disable_{configuration.pk}_reason"' in dialog and 'maxlength="500"' in dialog

    page = page_after(
        web.post(reverse("configurations:disable", args=[configuration.pk]), {"reason": "Receiver moving"}, follow=True)
    )
    configuration.refresh_from_db()
    assert not configuration.is_active and configuration.disabled_reason == "Receiver moving"
    assert "Receiver moving" in page[page.index(f'id="disabled-banner-{configuration.pk}"') :]


def test_a_reason_too_long_is_refused_on_the_confirmation_page(web, configuration):
    response = web.post(reverse("configurations:disable", args=[configuration.pk]), {"reason": "x" * 501}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("configurations:disable", args=[configuration.pk])
    assert "at most 500 characters" in page_after(response)
    configuration.refresh_from_db()
    assert configuration.is_active


def test_rest_hooks_made_by_integrations_are_listed_with_their_event_and_removable(web, producer):
    from configurations.services import hook_subscribe

    own = ConfigurationFactory(owner=producer, name="Mine")
    hook = hook_subscribe(owner=producer, target_url="https://hooks.zapier.example/abc", event="cart_abandonment")
    page = page_of(web.get(reverse("configurations:list")))
    hooks = page[page.index('id="hooks-title"') :]
    assert f'id="configuration-{hook.pk}"' in hooks and "hook: cart_abandonment" in hooks
    assert "https://hooks.zapier.example/abc" in hooks and f'id="configuration-{own.pk}"' not in hooks
    assert f'<dialog id="remove-{hook.pk}"' in hooks

    web.post(reverse("configurations:remove", args=[hook.pk]))
    assert not Configuration.objects.filter(pk=hook.pk).exists()
    assert 'id="hooks-title"' not in page_of(web.get(reverse("configurations:list")))


def test_a_test_post_offers_the_configurations_own_events_first_and_marks_the_others(web, configuration):
    page = page_of(web.get(reverse("configurations:list")))
    select = page[page.index(f'name="t{configuration.pk}-event_type"') :]
    select = select[: select.index("</select>")]
    own, others = select.split("Not subscribed: sent only as this test")
    assert '<optgroup label="Its events">' in own
    assert own.count("<option") == 2 and "PURCHASE_APPROVED" in own and "PURCHASE_REFUNDED" in own
    assert others.count("<option") == 13 and "SWITCH_PLAN (not subscribed)" in others
    assert 'value="PURCHASE_APPROVED" selected' in own


def test_a_legacy_configuration_offers_no_event_its_postback_cannot_carry(web, producer):
    legacy = ConfigurationFactory(owner=producer, events=["PURCHASE_APPROVED"], payload_version="1.0")
    page = page_of(web.get(reverse("configurations:list")))
    select = page[page.index(f'name="t{legacy.pk}-event_type"') :]
    assert "SWITCH_PLAN" not in select[: select.index("</select>")]
    response = web.post(
        reverse("configurations:test", args=[legacy.pk]), {f"t{legacy.pk}-event_type": "SWITCH_PLAN"}, **HTMX
    )
    assert response.status_code == 400 and not Notification.objects.exists()


def test_after_regenerating_the_page_opens_at_the_top_where_the_message_is(web, producer):
    response = web.post(reverse("configurations:hottok_regenerate"))
    assert response.url == reverse("documentation"), "no #hottok: the message at the top stays in view"
