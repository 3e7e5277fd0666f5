"""The Simulator page: start stories (purchases, carts, samples), move transactions through their lifecycle,
act on subscriptions and the members area; where each event went, live; errors under their fields; scoping."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalogue.events import EventType
from configurations.services import affiliate_register, affiliation_create, configuration_create
from history.models import Event, Notification
from sales.models import Purchase, Subscription
from sales.services import subscription_cancel, transaction_create, transaction_transition
from tests.factories import ProductFactory
from tests.pages import HTMX, add_attempt, error_under, page_after, page_of

pytestmark = pytest.mark.django_db


def purchase(web, follow=False, **data):
    data = {"payment_type": "CREDIT_CARD", "installments": "1", **data}
    return web.post(reverse("simulator:purchase"), data, follow=follow)


def moved(web, purchase_: Purchase, to: str, follow=False):
    return web.post(reverse("simulator:move", args=[purchase_.transaction]), {"to": to}, follow=follow)


# --- The page -------------------------------------------------------------------------------------------------


def test_without_products_the_page_says_how_to_add_one(web, producer):
    page = page_of(web.get(reverse("simulator:index")))
    assert "No products yet" in page and reverse("products:create") in page
    assert "No active configuration" in page


def test_the_page_offers_the_forms_and_lists_recent_transactions_and_subscriptions(
    web, producer, course, club, listener
):
    card = transaction_create(owner=producer, product=course).purchase
    sub = transaction_create(owner=producer, product=club, plan="yearly").subscription
    page = page_of(web.get(reverse("simulator:index")))
    assert "New purchase" in page and "Cart abandonment" in page and "One-off sample" in page
    assert 'data-subscription="1"' in page and 'data-subscription="0"' in page, "the plan shows for subscriptions"
    for value in ("CREDIT_CARD", "BILLET", "PIX"):
        assert f'value="{value}"' in page
    assert reverse("simulator:transaction", args=[card.transaction]) in page
    assert reverse("simulator:subscription", args=[sub.subscriber_code]) in page
    assert "No active configuration" not in page


def test_anonymous_users_are_sent_to_login(client, producer, course):
    card = transaction_create(owner=producer, product=course).purchase
    for url in (
        reverse("simulator:index"),
        reverse("simulator:transaction", args=[card.transaction]),
        reverse("simulator:deliveries") + "?events=1",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login") + "?next=")
    response = client.post(reverse("simulator:move", args=[card.transaction]), {"to": "REFUNDED"})
    assert response.status_code == 302 and Purchase.objects.get().status == "APPROVED"


# --- A purchase and its moves ---------------------------------------------------------------------------------


def test_a_pix_purchase_shows_where_it_went_and_only_its_legal_moves(web, producer, course, listener):
    response = purchase(web, product=course.pk, payment_type="PIX", buyer_email="ana@example.com", buyer_name="Ana")
    created = Purchase.objects.get()
    assert created.payment_type == "PIX" and created.status == "BILLET_PRINTED"
    assert created.buyer["email"] == "ana@example.com" and created.buyer["name"] == "Ana"
    event = Event.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("simulator:transaction", args=[created.transaction]) + f"?recorded={event.pk}"

    page = page_of(web.get(response.url))
    assert f"PURCHASE_BILLET_PRINTED ({created.transaction}) recorded, sent to 1 configuration: “all”." in page
    [notification] = Notification.objects.all()
    assert reverse("history:detail", args=[notification.pk]) in page, "each notification links to its detail"
    assert "just recorded" in page and 'hx-trigger="every 2s' in page, "live while it is pending"
    buttons = re.findall(r'name="to" value="([A-Z_]+)"', page)
    assert buttons == ["APPROVED", "EXPIRED"], "a PIX waiting for payment is paid or expires, nothing else"
    assert created.pix["code"] in page, "the PIX code to copy"


def test_approving_then_refunding_records_each_event_and_the_timeline_grows(web, producer, course, listener):
    created = transaction_create(owner=producer, product=course, payment_type="PIX").purchase

    response = moved(web, created, "APPROVED")
    created.refresh_from_db()
    assert created.status == "APPROVED" and response.status_code == 302
    page = page_of(web.get(response.url))
    assert f"PURCHASE_APPROVED ({created.transaction}) recorded, sent to 1 configuration" in page
    assert re.findall(r'name="to" value="([A-Z_]+)"', page) == ["COMPLETED", "REFUNDED", "DISPUTE"]
    assert 'value="CHARGEBACK"' not in page, "a PIX is never charged back"

    page = page_of(web.get(moved(web, created, "refund").url))
    created.refresh_from_db()
    assert created.status == "REFUNDED"
    assert "is final" in page and 'name="to"' not in page
    timeline = page[page.index('id="timeline-live"') :]
    order = [m for m in re.findall(r"PURCHASE_[A-Z_]+", timeline) if m != "PURCHASE_"]
    assert [t for i, t in enumerate(order) if t not in order[:i]] == [
        "PURCHASE_BILLET_PRINTED",
        "PURCHASE_APPROVED",
        "PURCHASE_REFUNDED",
    ]


def test_an_illegal_or_unknown_move_is_an_error_on_the_page_not_a_500(web, producer, course, listener):
    created = transaction_create(owner=producer, product=course, payment_type="PIX").purchase
    page = page_after(moved(web, created, "CHARGEBACK", follow=True))
    message = error_under(page, "id_to")
    assert "cannot become CHARGEBACK" in message and "Allowed: APPROVED" in message
    page = page_after(moved(web, created, "sideways", follow=True))
    assert "Unknown status 'sideways'" in error_under(page, "id_to")
    page = page_after(web.post(reverse("simulator:move", args=[created.transaction]), {}, follow=True))
    assert "Choose where the transaction goes." in error_under(page, "id_to")
    created.refresh_from_db()
    assert created.status == "BILLET_PRINTED" and Event.objects.count() == 1


def test_a_completion_is_made_now_or_scheduled_at_the_end_of_the_warranty(web, producer, course, listener):
    created = transaction_create(owner=producer, product=course).purchase
    page = page_of(web.get(reverse("simulator:transaction", args=[created.transaction])))
    assert "Really at" in page and "Possible until" in page, "complete really waits for the warranty"
    assert 'name="schedule" value="COMPLETED"' in page and 'name="schedule" value="REFUNDED"' not in page

    response = moved(web, created, "COMPLETED")

    now = Event.objects.get(event_type="PURCHASE_COMPLETE")
    assert now.occurred_at <= timezone.now(), "made now, dated now"
    told = page_of(web.get(response["Location"]))
    assert "before its real moment" in told

    other = transaction_create(owner=producer, product=course).purchase
    response = web.post(reverse("simulator:move", args=[other.transaction]), {"schedule": "COMPLETED"})
    scheduled = Event.objects.get(event_type="PURCHASE_COMPLETE", transaction=other.transaction)
    assert scheduled.occurred_at == other.warranty_until
    page = page_of(web.get(response["Location"]))
    assert "PURCHASE_COMPLETE is scheduled" in page and "Pending posts</a> until then" in page
    card = page_of(web.get(f"{reverse('simulator:deliveries')}?events={scheduled.pk}", **HTMX))
    assert "scheduled" in card and "every 2s" not in card, "nothing is in flight for a week: no polling"
    [waiting] = scheduled.notifications.all()
    assert reverse("history:detail", args=[waiting.pk]) in page_of(web.get(reverse("history:pending")))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"buyer_email": "not-an-email"}, "id_buyer_email", "is not a valid e-mail address"),
        ({"payment_type": "PIX", "installments": "3"}, "id_installments", "paid at once: 1 installment"),
        ({"installments": "13"}, "id_installments", "Installments go from 1 to 12"),
        ({"payment_type": "BILLET", "refused": "on"}, "id_refused", "Only a card payment is refused"),
        ({"payment_type": "CHEQUE"}, "id_payment_type", "Choose credit card, billet or PIX"),
        ({"plan": "yearly"}, "id_plan", "is not sold by subscription"),
        ({"plan": "weekly"}, "id_plan", "Choose monthly, bimonthly, quarterly, semiannual, yearly."),
        ({"coupon_code": "x" * 51}, "id_coupon_code", "at most 50 characters"),
        ({"buyer_name": "n" * 256}, "id_buyer_name", "at most 255 characters"),
    ],
)
def test_every_purchase_error_is_shown_under_its_field(web, producer, course, listener, data, field, message):
    page = page_after(purchase(web, product=course.pk, **data, follow=True))
    assert message in error_under(page, field)
    assert 'aria-invalid="true"' in page
    assert not Purchase.objects.exists() and not Event.objects.exists()


def test_another_producers_product_or_an_affiliate_who_does_not_sell_it_is_refused(
    web, producer, stranger, course, club, listener
):
    theirs = ProductFactory(owner=stranger)
    page = page_after(purchase(web, product=theirs.pk, follow=True))
    assert "Choose one of your products." in error_under(page, "id_product")
    affiliate = affiliate_register(username="maria")
    affiliation_create(affiliate=affiliate, product=club)
    code = affiliate.webhook_account.affiliate_code
    page = page_after(purchase(web, product=course.pk, affiliate_code=code, follow=True))
    assert "add the affiliation first" in error_under(page, "id_affiliate_code")
    page = page_after(purchase(web, product=course.pk, affiliate_code="NOPE", follow=True))
    assert "Choose one of your affiliates." in error_under(page, "id_affiliate_code")
    assert not Purchase.objects.exists()


def test_a_sale_through_an_affiliate_names_the_affiliates_configuration_without_linking_it(
    web, producer, course, listener
):
    affiliate = affiliate_register(username="maria")
    affiliation_create(affiliate=affiliate, product=course, commission_percent=40)
    configuration_create(owner=affiliate, name="Maria's", events=["PURCHASE_APPROVED"], url="http://127.0.0.1:9/m")
    code = affiliate.webhook_account.affiliate_code
    page = page_of(web.get(reverse("simulator:index")))
    assert f'value="{code}"' in page and f'data-products="{course.pk}"' in page
    response = purchase(web, product=course.pk, affiliate_code=code, coupon_code="PROMO", src="ads", xcod="x1")
    page = page_of(web.get(response.url))
    created = Purchase.objects.get()
    assert created.affiliate == affiliate and created.coupon_code == "PROMO" and created.origin["src"] == "ads"
    mine, theirs = Notification.objects.order_by("id")
    assert theirs.owner == affiliate
    assert "sent to 1 configuration: “all”; and to 1 of the affiliate&#x27;s." in page
    assert "A configuration of affiliate <strong>maria</strong>" in page
    assert reverse("history:detail", args=[mine.pk]) in page
    assert reverse("history:detail", args=[theirs.pk]) not in page and "Maria&#x27;s" not in page


def test_another_producers_transaction_answers_404(client_for, stranger, producer, course):
    created = transaction_create(owner=producer, product=course).purchase
    other = client_for(stranger)
    for name in ("simulator:transaction",):
        assert other.get(reverse(name, args=[created.transaction])).status_code == 404
    for name in ("simulator:move", "simulator:first_access", "simulator:module"):
        response = other.post(reverse(name, args=[created.transaction]), {"to": "REFUNDED", "module": ""})
        assert response.status_code == 404
        assert "This page does not exist" in response.content.decode()
    created.refresh_from_db()
    assert created.status == "APPROVED" and Event.objects.count() == 1


def test_posts_need_a_csrf_token(producer, course):
    client = Client(enforce_csrf_checks=True)
    client.force_login(producer)
    assert "csrfmiddlewaretoken" in client.get(reverse("simulator:index")).content.decode()
    response = client.post(reverse("simulator:purchase"), {"product": course.pk, "payment_type": "PIX"})
    assert response.status_code == 403 and not Purchase.objects.exists()
    created = transaction_create(owner=producer, product=course).purchase
    response = client.post(reverse("simulator:move", args=[created.transaction]), {"to": "REFUNDED"})
    assert response.status_code == 403
    created.refresh_from_db()
    assert created.status == "APPROVED"


def test_the_pages_only_answer_the_methods_they_take(web, producer, course):
    created = transaction_create(owner=producer, product=course).purchase
    assert web.get(reverse("simulator:purchase")).status_code == 405
    assert web.get(reverse("simulator:move", args=[created.transaction])).status_code == 405


# --- Members area ---------------------------------------------------------------------------------------------


def test_first_access_then_modules_in_order_then_errors_are_shown(web, producer, course, listener):
    created = transaction_create(owner=producer, product=course, payment_type="BILLET").purchase
    page = page_of(web.get(reverse("simulator:transaction", args=[created.transaction])))
    assert "Approve it first" in page and "Record first access" not in page
    response = web.post(reverse("simulator:first_access", args=[created.transaction]), follow=True)
    assert "has no access to the members area" in page_after(response)

    transaction_transition(owner=producer, transaction=created.transaction, to="APPROVED")
    page = page_of(web.get(reverse("simulator:transaction", args=[created.transaction])))
    assert "Record first access" in page
    response = web.post(reverse("simulator:first_access", args=[created.transaction]))
    assert response.status_code == 302 and Event.objects.filter(event_type="CLUB_FIRST_ACCESS").count() == 1
    page = page_of(web.get(response.url))
    assert "CLUB_FIRST_ACCESS" in page and "Complete module" in page
    assert "already entered the members area" in page_after(
        web.post(reverse("simulator:first_access", args=[created.transaction]), follow=True)
    )

    response = web.post(reverse("simulator:module", args=[created.transaction]), {"module": "2"})
    assert response.status_code == 302
    created.refresh_from_db()
    assert len(created.modules_completed) == 1
    page = page_after(web.post(reverse("simulator:module", args=[created.transaction]), {"module": "2"}, follow=True))
    assert "is already completed" in error_under(page, "id_module")
    page = page_after(
        web.post(reverse("simulator:module", args=[created.transaction]), {"module": "Module 99"}, follow=True)
    )
    assert "Unknown module" in error_under(page, "id_module")


# --- Subscriptions --------------------------------------------------------------------------------------------


def test_a_renewal_is_scheduled_on_its_charge_date_from_the_page(web, producer, club, listener):
    subscription = transaction_create(owner=producer, product=club).subscription
    url = reverse("simulator:subscription", args=[subscription.subscriber_code])
    assert 'name="schedule"' in page_of(web.get(url))

    response = web.post(reverse("simulator:renew", args=[subscription.subscriber_code]), {"schedule": "on"})

    renewal = Event.objects.filter(event_type="PURCHASE_APPROVED").latest("id")
    assert renewal.occurred_at == subscription.date_next_charge
    page = page_of(web.get(response["Location"]))
    assert "PURCHASE_APPROVED is scheduled" in page and "Pending posts</a> until then" in page


def test_a_subscription_is_renewed_switched_moved_and_cancelled_from_its_page(web, producer, club, listener):
    response = purchase(web, product=club.pk, plan="quarterly")
    subscription = Subscription.objects.get()
    assert subscription.plan_key == "quarterly" and subscription.status == "ACTIVE"
    url = reverse("simulator:subscription", args=[subscription.subscriber_code])
    page = page_of(web.get(url))
    assert "Renew" in page and "Charges" in page

    response = web.post(reverse("simulator:renew", args=[subscription.subscriber_code]), {})
    assert response.status_code == 302 and response.url.startswith(url + "?recorded=")
    page = page_of(web.get(response.url))
    assert "PURCHASE_APPROVED" in page and "Just recorded" in page
    assert subscription.purchases.count() == 2

    response = web.post(reverse("simulator:switch_plan", args=[subscription.subscriber_code]), {"plan": "yearly"})
    assert response.status_code == 302
    page = page_after(
        web.post(reverse("simulator:switch_plan", args=[subscription.subscriber_code]), {"plan": "yearly"}, follow=True)
    )
    assert "is already on yearly" in error_under(page, "id_plan")

    page = page_after(
        web.post(reverse("simulator:charge_day", args=[subscription.subscriber_code]), {"day": "40"}, follow=True)
    )
    assert "1 to 31" in error_under(page, "id_day")
    page = page_after(
        web.post(reverse("simulator:charge_day", args=[subscription.subscriber_code]), {"day": "x"}, follow=True)
    )
    assert "A day of the month" in error_under(page, "id_day")
    day = subscription.charge_day % 28 + 1
    web.post(reverse("simulator:charge_day", args=[subscription.subscriber_code]), {"day": str(day)})
    subscription.refresh_from_db()
    assert subscription.charge_day == day

    web.post(reverse("simulator:subscription_cancel", args=[subscription.subscriber_code]), {"by": "seller"})
    subscription.refresh_from_db()
    assert subscription.status == "CANCELLED_BY_SELLER"
    assert list(Event.objects.order_by("id").values_list("event_type", flat=True)) == [
        "PURCHASE_APPROVED",
        "PURCHASE_APPROVED",
        "SWITCH_PLAN",
        "UPDATE_SUBSCRIPTION_CHARGE_DATE",
        "SUBSCRIPTION_CANCELLATION",
    ]
    page = page_of(web.get(url))
    assert page.count("disabled") >= 4, "nothing is offered to a cancelled subscription"


def test_a_subscription_action_it_no_longer_allows_is_an_error_under_the_form(web, producer, club, listener):
    subscription = transaction_create(owner=producer, product=club).subscription
    subscription_cancel(owner=producer, subscriber_code=subscription.subscriber_code)
    page = page_after(web.post(reverse("simulator:renew", args=[subscription.subscriber_code]), {}, follow=True))
    assert "only an ACTIVE subscription is renewed" in page and 'class="errorlist nonfield"' in page
    page = page_after(
        web.post(
            reverse("simulator:subscription_cancel", args=[subscription.subscriber_code]), {"by": "nobody"}, follow=True
        )
    )
    assert "Choose customer, seller or admin." in error_under(page, "id_by")


def test_another_producers_subscription_answers_404(client_for, stranger, producer, club):
    subscription = transaction_create(owner=producer, product=club).subscription
    other = client_for(stranger)
    assert other.get(reverse("simulator:subscription", args=[subscription.subscriber_code])).status_code == 404
    for name in ("simulator:renew", "simulator:subscription_cancel", "simulator:switch_plan", "simulator:charge_day"):
        response = other.post(reverse(name, args=[subscription.subscriber_code]), {"plan": "yearly", "day": "3"})
        assert response.status_code == 404
    subscription.refresh_from_db()
    assert subscription.status == "ACTIVE" and subscription.plan_key == "monthly"


# --- Carts and samples ----------------------------------------------------------------------------------------


def test_a_cart_abandonment_shows_where_it_went(web, producer, course, listener):
    response = web.post(
        reverse("simulator:cart"),
        {"cart-product": course.pk, "cart-buyer_email": "lead@example.com", "cart-buyer_phone": "5511999990000"},
    )
    event = Event.objects.get()
    assert event.event_type == "PURCHASE_OUT_OF_SHOPPING_CART" and event.buyer_email == "lead@example.com"
    assert response.url == f"{reverse('simulator:index')}?recorded={event.pk}#recorded"
    page = page_of(web.get(response.url))
    assert "PURCHASE_OUT_OF_SHOPPING_CART recorded, sent to 1 configuration" in page and "Just recorded" in page
    assert not Purchase.objects.exists()
    page = page_after(
        web.post(reverse("simulator:cart"), {"cart-product": course.pk, "cart-buyer_phone": "call me"}, follow=True)
    )
    assert "digits only" in error_under(page, "id_cart-buyer_phone")


def test_a_one_off_sample_of_any_event_and_its_errors(web, producer, course, club, listener):
    response = web.post(reverse("simulator:sample"), {"sample-event_type": "SWITCH_PLAN"})
    assert Event.objects.get().event_type == "SWITCH_PLAN" and response.status_code == 302
    page = page_after(
        web.post(
            reverse("simulator:sample"), {"sample-event_type": "SWITCH_PLAN", "sample-product": course.pk}, follow=True
        )
    )
    assert "is not sold by subscription" in error_under(page, "id_sample-product")
    page = page_after(web.post(reverse("simulator:sample"), {"sample-event_type": "NOPE"}, follow=True))
    assert "Choose one of the 15 events." in error_under(page, "id_sample-event_type")
    page = page_after(
        web.post(
            reverse("simulator:sample"),
            {"sample-event_type": "CLUB_FIRST_ACCESS", "sample-buyer_email": "x@"},
            follow=True,
        )
    )
    assert "is not a valid e-mail address" in error_under(page, "id_sample-buyer_email")
    assert Event.objects.count() == 1


def test_an_event_no_configuration_wants_says_so(web, producer, course):
    response = web.post(reverse("simulator:sample"), {"sample-event_type": EventType.PURCHASE_PROTEST})
    page = page_of(web.get(response.url))
    assert "no active configuration wants it, so nothing was sent" in page
    assert "Sent nowhere" in page


# --- Live parts -----------------------------------------------------------------------------------------------


def live_url_of(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}" hx-get="') + len(f'id="{element_id}" hx-get="')
    return page[start : page.index('"', start)].replace("&amp;", "&")


def test_the_timeline_polls_answering_204_until_a_delivery_changes(web, producer, course, listener):
    created = transaction_create(owner=producer, product=course).purchase
    page = page_of(web.get(reverse("simulator:transaction", args=[created.transaction])))
    url = live_url_of(page, "timeline-live")
    assert web.get(url, **HTMX).status_code == 204
    add_attempt(Notification.objects.get(), status=200)
    fragment = page_of(web.get(url, **HTMX))
    assert fragment.lstrip().startswith('<div id="timeline-live"') and "chip--ok" in fragment
    assert 'hx-trigger="dashboard:refresh from:body"' in fragment, "nothing in flight: it stops polling"


def test_the_recorded_card_polls_and_another_producers_events_are_not_found(
    web, client_for, stranger, producer, course, listener
):
    response = web.post(reverse("simulator:sample"), {"sample-event_type": "PURCHASE_APPROVED"})
    page = page_of(web.get(response.url))
    url = live_url_of(page, "recorded-live")
    assert web.get(url, **HTMX).status_code == 204
    add_attempt(Notification.objects.get(), status=500, body="boom")
    assert "chip--error" in page_of(web.get(url, **HTMX))
    assert client_for(stranger).get(url, **HTMX).status_code == 404
    assert web.get(reverse("simulator:deliveries") + "?events=junk,", **HTMX).status_code == 404


# --- Cost -----------------------------------------------------------------------------------------------------


def test_the_page_and_a_transaction_cost_a_bounded_number_of_queries(
    web, producer, course, club, listener, django_assert_max_num_queries
):
    for _ in range(12):
        created = transaction_create(owner=producer, product=course, payment_type="PIX").purchase
    transaction_create(owner=producer, product=club)
    for to in ("APPROVED", "DISPUTE", "APPROVED", "REFUNDED"):
        transaction_transition(owner=producer, transaction=created.transaction, to=to)
    with django_assert_max_num_queries(10):
        page_of(web.get(reverse("simulator:index")))
    with django_assert_max_num_queries(8):
        page = page_of(web.get(reverse("simulator:transaction", args=[created.transaction])))
    assert page.count('class="timeline-item') == 5
    subscription = Subscription.objects.get()
    for _ in range(3):
        web.post(reverse("simulator:renew", args=[subscription.subscriber_code]))
    recorded = Event.objects.order_by("-id").first()
    url = reverse("simulator:subscription", args=[subscription.subscriber_code]) + f"?recorded={recorded.pk}"
    with django_assert_max_num_queries(10):
        page = page_of(web.get(url))
    assert page.count('<td data-label="Charge"') == 4


def test_a_cancelled_subscription_shows_no_next_charge(web, producer, club):
    subscription = transaction_create(owner=producer, product=club).subscription
    url = reverse("simulator:subscription", args=[subscription.subscriber_code])
    assert "next on" in page_of(web.get(url))
    subscription_cancel(owner=producer, subscriber_code=subscription.subscriber_code)

    page = page_of(web.get(url))
    listed = page_of(web.get(reverse("simulator:index")))

    assert "next on" not in page and "no further charges" in page
    row = listed[listed.index(subscription.subscriber_code) :]
    assert 'data-label="Next charge" class="small nowrap"><span class="muted">none</span>' in row[: row.index("</tr>")]


def test_a_purchase_of_a_subscription_offers_only_its_products_plans(web, producer, club):
    from configurations.services import product_update

    product_update(
        product=club,
        name=club.name,
        price=club.price,
        currency="BRL",
        is_subscription=True,
        warranty_days=7,
        plans=[{"key": "bimonthly", "price": "88.00"}],
    )
    page = page_of(web.get(reverse("simulator:index")))
    plans = page[page.index("data-plan-select") : page.index("</select>", page.index("data-plan-select"))]
    assert f'value="bimonthly" data-products="{club.pk}"' in plans and "BRL 88.00 every 2 months" in plans
    assert 'monthly" data-products' not in plans.replace("bimonthly", ""), "its plans only"

    purchase(web, product=club.pk, plan="bimonthly")
    assert Subscription.objects.get().plan_key == "bimonthly"
    page = page_after(purchase(web, product=club.pk, plan="yearly", follow=True))
    assert "bimonthly" in error_under(page, "id_plan")
