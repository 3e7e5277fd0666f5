"""The Products page (list, add, edit, a subscription product's plans) and the Affiliates page (who sells what,
new affiliates, whether affiliates see buyer data), as a browser without JavaScript posts them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from catalogue.plans import plans_for
from configurations.models import Account, Affiliation, Product
from configurations.services import affiliate_add, affiliate_register, product_create
from history.models import Notification
from sales.models import Subscription
from sales.services import subscription_switch_plan, transaction_create
from tests.factories import ConfigurationFactory, UserFactory
from tests.pages import error_under, page_after, page_of

pytestmark = pytest.mark.django_db


def product_data(**overrides):
    data = {"name": "Curso de Webhooks", "price": "197.00", "currency": "BRL", "warranty_days": "7"}
    data.update(overrides)
    return data


# --- Products -------------------------------------------------------------------------------------------------


def test_the_products_page_lists_each_product_with_its_kind_price_plans_and_affiliates(web, producer):
    course = product_create(owner=producer, name="Curso", price="197.00", warranty_days=30)
    club = product_create(owner=producer, name="Clube", price="50.00", is_subscription=True)
    affiliate_register(username="ana")
    affiliate_add(product=course, username="ana", commission_percent="40")

    page = page_of(web.get(reverse("products:list")))

    assert f'id="product-{course.hotmart_id}"' in page and "BRL 197.00" in page and "30 days" in page
    assert "single purchase" in page and "subscription" in page
    assert "monthly BRL 50.00 · quarterly BRL 135.00 · yearly BRL 480.00" in page, "the plans derived from its price"
    assert reverse("products:edit", args=[club.hotmart_id]) in page
    row = page[page.index(f'id="product-{course.hotmart_id}"') :]
    assert ">1</a>" in row[: row.index("</tr>")], "one affiliate sells the course"


def test_a_single_purchase_product_is_added_from_the_page(web, producer):
    response = web.post(reverse("products:create"), product_data(warranty_days="30", hotmart_id="4242001"))
    product = Product.objects.get(owner=producer)
    assert response.status_code == 302 and response.url.endswith(f"#product-{product.hotmart_id}")
    assert (product.name, product.price, product.warranty_days, product.hotmart_id) == (
        "Curso de Webhooks",
        Decimal("197.00"),
        30,
        4242001,
    )
    assert not product.is_subscription and product.plans == []


def test_a_subscription_product_is_sold_in_the_plans_chosen_at_the_prices_given(web, producer):
    web.post(
        reverse("products:create"),
        product_data(
            name="Clube",
            price="40.00",
            is_subscription="on",
            plan_monthly="on",
            plan_semiannual="on",
            plan_semiannual_price="199.90",
        ),
    )
    product = Product.objects.get(owner=producer)
    assert product.is_subscription
    assert [(p["key"], p["price"], p["months"]) for p in plans_for(product)] == [
        ("monthly", "40.00", 1),
        ("semiannual", "199.90", 6),
    ]

    # A purchase on the new plan: the subscription and the payload carry it.
    outcome = transaction_create(owner=producer, product=product, plan="semiannual")
    assert outcome.subscription.plan_key == "semiannual"
    plan = outcome.events[0].event.facts["subscription"]["plan"]
    assert plan["name"] == "Plano Semestral - Clube" and plan["price"] == "199.90"


def test_a_plan_left_without_a_price_follows_the_products_price(web, producer):
    web.post(reverse("products:create"), product_data(price="10.00", is_subscription="on", plan_yearly="on"))
    product = Product.objects.get(owner=producer)
    assert [(p["key"], p["price"]) for p in plans_for(product)] == [("yearly", "96.00")]
    web.post(
        reverse("products:edit", args=[product.hotmart_id]),
        product_data(price="20.00", is_subscription="on", plan_yearly="on"),
    )
    product.refresh_from_db()
    assert [(p["key"], p["price"]) for p in plans_for(product)] == [("yearly", "192.00")]


def test_editing_a_product_changes_it_and_the_form_shows_what_it_is(web, producer):
    product = product_create(owner=producer, name="Old", price="10.00", is_subscription=True)
    form = page_of(web.get(reverse("products:edit", args=[product.hotmart_id])))
    assert 'value="Old"' in form and "Product id" in form and str(product.hotmart_id) in form
    assert form.count("checked") == 4, "subscription, and the three plans it has until its owner chooses"

    response = web.post(
        reverse("products:edit", args=[product.hotmart_id]),
        product_data(name="New", price="12.50", warranty_days="14", is_subscription="on", plan_monthly="on"),
        follow=True,
    )

    product.refresh_from_db()
    assert (product.name, product.price, product.warranty_days) == ("New", Decimal("12.50"), 14)
    assert [p["key"] for p in plans_for(product)] == ["monthly"]
    assert "Product “New” saved." in page_after(response)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "id_name", "Give the product a name."),
        ({"name": "x" * 201}, "id_name", "at most 200 characters"),
        ({"price": "-1"}, "id_price", "greater than or equal to 0"),
        ({"price": "abc"}, "id_price", "A price, e.g. 97.00."),
        ({"currency": "R$"}, "id_currency", "3-letter ISO code"),
        ({"warranty_days": "400"}, "id_warranty_days", "less than or equal to 365"),
        ({"plan_monthly_price": "-5", "is_subscription": "on", "plan_monthly": "on"}, "id_plan_monthly_price", "0"),
    ],
)
def test_every_product_error_is_shown_under_its_field_with_what_was_typed(web, producer, data, field, message):
    response = web.post(reverse("products:create"), product_data(**data), follow=True)
    page = page_after(response)
    assert message in error_under(page, field)
    assert not Product.objects.exists()


@pytest.mark.parametrize("value", ["NaN", "nan", "sNaN", "Infinity", "-inf", "1e999"])
@pytest.mark.parametrize("field", ["price", "plan_monthly_price"])
def test_a_price_that_is_not_a_finite_number_is_an_error_and_the_page_stays_usable(web, producer, field, value):
    data = product_data(is_subscription="on", plan_monthly="on", **{field: value})
    page = page_after(web.post(reverse("products:create"), data, follow=True))
    expected = "no more than 12 digits" if value == "1e999" else "A price, e.g. 97.00."  # finite, but huge
    assert expected in error_under(page, f"id_{field}")
    assert not Product.objects.exists()
    assert web.get(reverse("products:create")).status_code == 200, "the rest of the session is not broken"
    assert web.get(reverse("products:list")).status_code == 200


def test_a_subscription_product_needs_a_plan(web, producer):
    page = page_after(web.post(reverse("products:create"), product_data(is_subscription="on"), follow=True))
    assert "Choose at least one plan" in page
    assert not Product.objects.exists()


def test_a_product_with_sales_keeps_its_kind_and_its_subscribers_plans(web, producer):
    club = product_create(owner=producer, name="Clube", price="50.00", is_subscription=True)
    subscription = transaction_create(owner=producer, product=club, plan="quarterly").subscription
    subscription_switch_plan(owner=producer, subscriber_code=subscription.subscriber_code, plan="yearly")
    form = page_of(web.get(reverse("products:edit", args=[club.hotmart_id])))
    assert "It has sales, so it stays a subscription" in form

    # The kind cannot change (the disabled box is ignored), and neither plan a subscriber was on may go.
    page = page_after(
        web.post(
            reverse("products:edit", args=[club.hotmart_id]),
            product_data(price="50.00", plan_monthly="on"),
            follow=True,
        )
    )
    assert "Subscribers are (or were) on the quarterly, yearly plan; it stays sold." in page
    club.refresh_from_db()
    assert club.is_subscription and [p["key"] for p in plans_for(club)] == ["monthly", "quarterly", "yearly"]

    # New prices are fine; the next charge uses them.
    web.post(
        reverse("products:edit", args=[club.hotmart_id]),
        product_data(price="50.00", plan_quarterly="on", plan_yearly="on", plan_yearly_price="399.00"),
    )
    club.refresh_from_db()
    assert [(p["key"], p["price"]) for p in plans_for(club)] == [("quarterly", "135.00"), ("yearly", "399.00")]
    assert Subscription.objects.get().plan_key == "yearly"


def test_another_producers_product_is_not_there(client_for, producer, stranger):
    product = product_create(owner=producer, name="Mine", price="10.00")
    other = client_for(stranger)
    assert other.get(reverse("products:edit", args=[product.hotmart_id])).status_code == 404
    assert other.post(reverse("products:edit", args=[product.hotmart_id]), product_data()).status_code == 404
    assert "Mine" not in page_of(other.get(reverse("products:list")))
    product.refresh_from_db()
    assert product.name == "Mine"


# --- Affiliates -----------------------------------------------------------------------------------------------


def test_the_affiliates_page_lists_who_sells_what_for_which_commission(web, producer):
    course = product_create(owner=producer, name="Curso", price="197.00")
    affiliation, _ = affiliate_add(product=course, username="bia", commission_percent="37.5")
    page = page_of(web.get(reverse("affiliates:list")))
    row = page[page.index(f'id="affiliation-{affiliation.pk}"') :]
    row = row[: row.index("</tr>")]
    account = Account.objects.get(user__username="bia")
    assert "bia" in row and account.affiliate_code in row and "Curso" in row
    assert "37.50%" in row and affiliation.hotlink in row


def test_a_new_affiliate_is_added_with_an_account_and_sells_through_its_hotlink(web, producer):
    course = product_create(owner=producer, name="Curso", price="197.00")
    response = web.post(
        reverse("affiliates:add"),
        {"username": "carla", "product": course.pk, "commission_percent": "40", "email": "carla@example.com"},
        follow=True,
    )
    page = page_after(response)
    affiliation = Affiliation.objects.get(product=course)
    assert affiliation.affiliate.username == "carla" and affiliation.commission_percent == Decimal("40")
    assert "carla (a new account" in page and affiliation.hotlink in page
    assert Account.objects.get(user=affiliation.affiliate).affiliate_code, "its code names it in payloads"

    # The Simulator's purchase form now offers the affiliate for that product.
    simulator = page_of(web.get(reverse("simulator:index")))
    assert f'data-products="{course.pk}"' in simulator and "carla" in simulator


def test_an_existing_user_becomes_an_affiliate_without_a_new_account(web, producer):
    course = product_create(owner=producer, name="Curso", price="197.00")
    existing = UserFactory(username="dora")
    web.post(reverse("affiliates:add"), {"username": "dora", "product": course.pk, "commission_percent": "50"})
    assert Affiliation.objects.get().affiliate == existing


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"username": ""}, "id_username", "Give the affiliate's username."),
        ({"username": "bad name!"}, "id_username", "letters, digits"),
        ({"commission_percent": "0"}, "id_commission_percent", "greater than or equal to 0.01"),
        ({"commission_percent": "101"}, "id_commission_percent", "less than or equal to 100"),
        ({"email": "nope"}, "id_email", "valid email"),
    ],
)
def test_every_affiliate_error_is_shown_under_its_field(web, producer, data, field, message):
    course = product_create(owner=producer, name="Curso", price="197.00")
    form = {"username": "eva", "product": course.pk, "commission_percent": "50", **data}
    page = page_after(web.post(reverse("affiliates:add"), form, follow=True))
    assert message in error_under(page, field)
    assert not Affiliation.objects.exists()


def test_a_producer_cannot_be_its_own_affiliate_nor_sell_anothers_product(web, producer, stranger):
    mine = product_create(owner=producer, name="Curso", price="197.00")
    theirs = product_create(owner=stranger, name="Outro", price="1.00")
    page = page_after(
        web.post(
            reverse("affiliates:add"),
            {"username": producer.username, "product": mine.pk, "commission_percent": "50"},
            follow=True,
        )
    )
    assert "A producer cannot be an affiliate of its own product." in page
    page = page_after(
        web.post(
            reverse("affiliates:add"),
            {"username": "fred", "product": theirs.pk, "commission_percent": "50"},
            follow=True,
        )
    )
    assert "Choose one of your products." in error_under(page, "id_product")
    assert not Affiliation.objects.exists()


def test_buyer_data_sharing_is_set_from_the_page_and_changes_what_affiliates_get(web, producer):
    course = product_create(owner=producer, name="Curso", price="197.00")
    affiliation, _ = affiliate_add(product=course, username="gil", commission_percent="50")
    ConfigurationFactory(owner=affiliation.affiliate, events=["PURCHASE_APPROVED"])
    page = page_of(web.get(reverse("affiliates:list")))
    assert "Buyer data hidden" in page

    page = page_after(web.post(reverse("affiliates:sharing"), {"affiliates_see_buyer_data": "on"}, follow=True))
    assert Account.objects.get(user=producer).affiliates_see_buyer_data
    assert "Buyer data shared" in page

    code = Account.objects.get(user=affiliation.affiliate).affiliate_code
    transaction_create(owner=producer, product=course, affiliate_code=code, buyer_email="buyer@example.com")
    sent = Notification.objects.get(owner=affiliation.affiliate)
    assert "buyer@example.com" in sent.payload, "shared: the affiliate's notification names the buyer"

    web.post(reverse("affiliates:sharing"), {})
    assert not Account.objects.get(user=producer).affiliates_see_buyer_data
