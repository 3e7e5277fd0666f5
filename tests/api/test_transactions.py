"""/api/v1/transactions: create a purchase, read it, list yours, move it through its lifecycle, the members area
and cart abandonment; each answers the events and notifications it created, and every bad input is named."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from configurations.services import affiliate_register, affiliation_create, configuration_create
from history.models import Event, Notification
from sales.models import Purchase
from sales.services import transaction_create, transaction_transition
from tests.api.conftest import Api, assert_error, bearer_token
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def buy(api: Api, **data) -> dict:
    response = api.post("/api/v1/transactions", data)
    assert response.status_code == 201, response.content
    return response.json()


def move(api: Api, code: str, to: str, **data):
    return api.post(f"/api/v1/transactions/{code}/transition", {"to": to, **data})


# --- Create -----------------------------------------------------------------------------------------------


def test_a_card_purchase_is_approved_and_answers_its_event_and_notifications(api, course, listener):
    body = buy(api, product=course.hotmart_id, buyer_email="ana@example.com", installments=3)

    sale = body["transaction"]
    purchase = Purchase.objects.get(transaction=sale["transaction"])
    assert purchase.owner == api.user and purchase.status == "APPROVED"
    assert sale["status"] == "APPROVED" and sale["payment_type"] == "CREDIT_CARD" and sale["installments"] == 3
    assert sale["product"] == course.hotmart_id and sale["buyer_email"] == "ana@example.com"
    assert sale["price"] == "197.00" and float(sale["full_price"]) > 197  # installments carry interest
    assert sale["approved_at"] and sale["warranty_until"] and sale["billet"] is None and sale["pix"] is None
    assert [m["to"] for m in sale["next"]] == ["COMPLETED", "REFUNDED", "CHARGEBACK", "DISPUTE"]
    assert body["event"]["event_type"] == "PURCHASE_APPROVED" and body["events"] == [body["event"]]
    assert body["event"]["transaction"] == sale["transaction"]
    [notification] = body["notifications"]
    assert notification["configuration"]["id"] == listener.pk and notification["status"] == "pending"
    assert Notification.objects.get(pk=notification["id"]).event.uuid.hex == body["event"]["id"].replace("-", "")
    assert body["affiliate_notifications"] == 0 and body["subscription"] is None


@pytest.mark.parametrize(("payment", "expected"), [("pix", "PIX"), ("boleto", "BILLET"), ("BILLET", "BILLET")])
def test_a_billet_or_pix_purchase_waits_for_payment_with_its_payment_fields(api, course, listener, payment, expected):
    sale = buy(api, payment_type=payment)["transaction"]

    assert sale["status"] == "BILLET_PRINTED" and sale["payment_type"] == expected
    assert sale["payment_due_at"] and sale["approved_at"] is None
    if expected == "PIX":
        assert sale["pix"]["code"].startswith("000201") and sale["pix"]["qrcode"].startswith("https://")
        assert sale["pix"]["expiration"] > 0 and sale["billet"] is None
    else:
        assert len(sale["billet"]["barcode"].replace(".", "").replace(" ", "")) == 47 and sale["pix"] is None
    assert [m["to"] for m in sale["next"]][0] == "APPROVED"


def test_a_refused_card_is_canceled_with_a_reason(api, course, listener):
    body = buy(api, refused=True)
    assert body["transaction"]["status"] == "CANCELED" and body["transaction"]["refusal_reason"]
    assert body["event"]["event_type"] == "PURCHASE_CANCELED" and body["transaction"]["next"] == []


def test_coupon_and_tracking_codes_are_kept(api, course):
    sale = buy(api, coupon_code="BLACKFRIDAY", src="newsletter", sck="HOTMART_SITE", xcod="crm-42")["transaction"]

    assert sale["coupon_code"] == "BLACKFRIDAY" and sale["price"] == "177.30"  # 10% off 197.00
    assert sale["origin"] == {"src": "newsletter", "sck": "HOTMART_SITE", "xcod": "crm-42"}
    event = Event.objects.get(transaction=sale["transaction"])
    assert event.facts["purchase"]["origin"]["xcod"] == "crm-42"


def test_a_subscription_product_starts_a_subscription_on_the_chosen_plan(api, club, listener):
    body = buy(api, product=club.hotmart_id, plan="yearly", payment_type="card")

    assert body["subscription"]["status"] == "ACTIVE" and body["subscription"]["plan"] == "yearly"
    assert body["transaction"]["subscription"] == body["subscription"]["subscriber_code"]
    assert body["transaction"]["recurrence_number"] == 1


def test_a_sale_through_a_hotlink_lists_only_the_callers_notifications(api, course, listener):
    affiliate = affiliate_register(username="zeca")
    affiliation = affiliation_create(affiliate=affiliate, product=course)
    theirs = configuration_create(
        owner=affiliate, name="mine", events=["PURCHASE_APPROVED"], url="http://127.0.0.1:9/a"
    )
    code = affiliate.webhook_account.affiliate_code

    body = buy(api, affiliate_code=code.lower())

    assert body["transaction"]["affiliate"] == "zeca" and body["transaction"]["affiliate_code"] == code
    assert [n["configuration"]["id"] for n in body["notifications"]] == [listener.pk]
    assert body["affiliate_notifications"] == 1
    assert Notification.objects.filter(configuration=theirs).count() == 1, "the affiliate was notified all the same"
    assert affiliation.product == course


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"payment_type": "cheque"}, "payment_type", "invalid_choice"),
        ({"installments": 13}, "installments", "max_value"),
        ({"installments": 0}, "installments", "min_value"),
        ({"installments": 3, "payment_type": "pix"}, "installments", "invalid"),
        ({"refused": True, "payment_type": "billet"}, "refused", "invalid"),
        ({"buyer_email": "not-an-email"}, "buyer_email", "invalid"),
        ({"buyer_name": "x" * 256}, "buyer_name", "max_length"),
        ({"affiliate_code": "NOBODY"}, "affiliate_code", "invalid"),
        ({"plan": "monthly"}, "plan", "invalid"),  # the course is not sold by subscription
        ({"coupon_code": "c" * 51}, "coupon_code", "max_length"),
        ({"src": "s" * 256}, "src", "max_length"),
        ({"product": 999}, "product", "invalid"),
        ({"at": "yesterday"}, "at", "invalid"),
        ({"at": "1999-12-31T23:00:00Z"}, "at", "invalid"),
        ({"at": "2100-01-01T00:00:00Z"}, "at", "invalid"),
    ],
)
def test_bad_purchase_input_is_named_and_nothing_is_saved(api, course, data, field, code):
    assert_error(api.post("/api/v1/transactions", data), 400, field=field, code=code)
    assert not Purchase.objects.exists() and not Event.objects.exists()


def test_an_unknown_plan_of_a_subscription_product_names_the_plans(api, club):
    body = assert_error(api.post("/api/v1/transactions", {"product": club.hotmart_id, "plan": "weekly"}), 400)
    assert body["field"] == "plan" and "monthly, quarterly, yearly" in body["message"]


def test_another_producers_product_is_refused(api, other_api, course):
    theirs = other_api.user.products.get()
    assert_error(api.post("/api/v1/transactions", {"product": theirs.hotmart_id}), 400, field="product")


def test_a_producer_without_products_is_told_to_create_one(api):
    body = assert_error(api.post("/api/v1/transactions", {}), 400, field="product")
    assert "create one first" in body["message"]


def test_a_moment_in_the_story_dates_the_event(api, course):
    body = buy(api, at="2026-03-01T12:00:00-03:00")
    assert body["event"]["occurred_at"] == "2026-03-01T15:00:00Z"
    assert body["transaction"]["approved_at"] == "2026-03-01T15:00:00Z"


# --- Read and list ----------------------------------------------------------------------------------------


def test_read_a_transaction_with_its_timeline_members_area_and_next_moves(api, course, listener):
    code = buy(api, payment_type="pix")["transaction"]["transaction"]
    move(api, code, "approved")

    response = api.get(f"/api/v1/transactions/{code.lower()}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["transaction"] == code and body["status"] == "APPROVED" and body["pix"]["code"]
    assert [e["event_type"] for e in body["timeline"]] == ["PURCHASE_BILLET_PRINTED", "PURCHASE_APPROVED"]
    assert body["members_area"]["has_access"] is True and body["members_area"]["first_access_at"] is None
    assert len(body["members_area"]["modules"]) >= 2 and not any(
        m["completed"] for m in body["members_area"]["modules"]
    )
    refund = next(m for m in body["next"] if m["to"] == "REFUNDED")
    assert refund == {
        "to": "REFUNDED",
        "event": "PURCHASE_REFUNDED",
        "verb": "refund",
        "meaning": "the producer (or Hotmart) refunded the buyer",
        "not_before": None,
        "until": None,
        "possible_now": True,
    }
    dispute = next(m for m in body["next"] if m["to"] == "DISPUTE")
    assert dispute["until"] == body["warranty_until"]


def test_another_producers_transaction_is_not_found(api, other_api):
    theirs = transaction_create(owner=other_api.user).purchase.transaction

    for response in (
        api.get(f"/api/v1/transactions/{theirs}"),
        move(api, theirs, "refunded"),
        api.post(f"/api/v1/transactions/{theirs}/first-access"),
        api.post(f"/api/v1/transactions/{theirs}/complete-module"),
    ):
        assert_error(response, 404, code="not_found")
    assert Purchase.objects.get(transaction=theirs).status == "APPROVED"


@pytest.mark.parametrize("code", ["HP00000000000000", "hp12345678901234"])
def test_an_unknown_transaction_is_not_found(api, code):
    body = assert_error(api.get(f"/api/v1/transactions/{code}"), 404, code="not_found")
    assert code.upper() in body["message"]


def test_a_malformed_transaction_code_is_not_found(api):
    assert_error(api.get("/api/v1/transactions/HP123"), 404)


def test_the_list_is_newest_first_paged_and_only_the_callers(api, other_api, course, listener):
    made = [buy(api)["transaction"]["transaction"] for _ in range(3)][::-1]
    transaction_create(owner=other_api.user)

    first = api.get("/api/v1/transactions", {"max_results": 2})
    token = first.json()["page_info"]["next_page_token"]
    second = api.get("/api/v1/transactions", {"max_results": 2, "page_token": token})

    assert first.status_code == 200 and second.status_code == 200
    assert [t["transaction"] for t in first.json()["items"] + second.json()["items"]] == made
    assert second.json()["page_info"] == {"next_page_token": None, "results_per_page": 2}
    assert first.json()["items"][0]["next"], "list items carry their next moves too"


def test_the_list_filters_by_status_and_product(api, course):
    other_product = ProductFactory(owner=api.user)
    approved = buy(api)["transaction"]["transaction"]
    printed = buy(api, payment_type="billet")["transaction"]["transaction"]
    elsewhere = buy(api, product=other_product.hotmart_id)["transaction"]["transaction"]

    by_status = api.get("/api/v1/transactions", {"status": "BILLET_PRINTED"}).json()["items"]
    by_product = api.get("/api/v1/transactions", {"product": course.hotmart_id}).json()["items"]

    assert [t["transaction"] for t in by_status] == [printed]
    assert [t["transaction"] for t in by_product] == [printed, approved]
    assert elsewhere not in [t["transaction"] for t in by_product]


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"page_token": "garbage"}, "page_token", "invalid"),
        ({"max_results": 0}, "max_results", "min_value"),
        ({"max_results": 201}, "max_results", "max_value"),
        ({"status": "PAID"}, "status", "invalid_choice"),
        ({"product": 999}, "product", "invalid"),
    ],
)
def test_bad_list_queries_are_named(api, course, params, field, code):
    assert_error(api.get("/api/v1/transactions", params), 400, field=field, code=code)


# --- Moves ------------------------------------------------------------------------------------------------


def test_a_legal_move_answers_its_event_notifications_and_the_transaction(api, course, listener):
    code = buy(api, payment_type="billet")["transaction"]["transaction"]

    response = move(api, code, "APPROVED")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["event"]["event_type"] == "PURCHASE_APPROVED" and body["event"]["transaction"] == code
    assert body["transaction"]["status"] == "APPROVED" and body["transaction"]["approved_at"]
    [notification] = body["notifications"]
    assert notification["event_type"] == "PURCHASE_APPROVED" and notification["configuration"]["id"] == listener.pk
    assert Purchase.objects.get(transaction=code).status == "APPROVED"


@pytest.mark.parametrize(
    ("to", "status"), [("refund", "REFUNDED"), ("PURCHASE_PROTEST", "DISPUTE"), ("chargeback", "CHARGEBACK")]
)
def test_moves_are_also_named_by_verb_or_event(api, course, to, status):
    code = buy(api)["transaction"]["transaction"]
    assert move(api, code, to).json()["transaction"]["status"] == status


def test_an_illegal_move_is_refused_on_to_naming_the_allowed_ones(api, course, listener):
    code = buy(api)["transaction"]["transaction"]

    body = assert_error(move(api, code, "EXPIRED"), 400, field="to", code="illegal_transition")

    assert f"Transaction {code} is APPROVED (credit card): it cannot become EXPIRED." in body["message"]
    assert "Allowed: COMPLETED (really at " in body["message"]
    assert "REFUNDED, CHARGEBACK, DISPUTE (until " in body["message"]
    assert Purchase.objects.get(transaction=code).status == "APPROVED"
    assert Event.objects.filter(transaction=code).count() == 1


def test_a_final_status_allows_no_move(api, course):
    code = buy(api)["transaction"]["transaction"]
    move(api, code, "refunded")

    body = assert_error(move(api, code, "approved"), 400, field="to", code="illegal_transition")
    assert "a final status" in body["message"]
    assert api.get(f"/api/v1/transactions/{code}").json()["next"] == []


def test_completing_is_made_now_or_scheduled_at_the_warranty_end_and_an_earlier_at_is_refused(api, course):
    sale = buy(api)["transaction"]
    other = buy(api)["transaction"]

    early = move(api, sale["transaction"], "completed", at=timezone.now().isoformat())
    body = assert_error(early, 400, field="at")
    assert "once the warranty ends" in body["message"]
    both = move(api, sale["transaction"], "completed", at=timezone.now().isoformat(), schedule=True)
    assert assert_error(both, 400, field="schedule")

    scheduled = move(api, sale["transaction"], "completed", schedule=True).json()
    assert scheduled["event"]["occurred_at"] == sale["warranty_until"], "dated when the warranty ends"
    assert ["PURCHASE_COMPLETE is scheduled" in note for note in scheduled["notes"]] == [True]
    now = move(api, other["transaction"], "completed").json()
    assert parse_datetime(now["event"]["occurred_at"]) <= timezone.now(), "made now: never dated in the future"
    assert "before its real moment" in now["notes"][0]
    assert now["transaction"]["warranty_until"] == other["warranty_until"]


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({}, "to", "required"),
        ({"to": "PAID"}, "to", "invalid_choice"),
        ({"to": 7}, "to", "invalid_choice"),
        ({"to": "refunded", "at": "2020-01-01T00:00:00Z"}, "at", "invalid"),  # before the purchase
    ],
)
def test_bad_move_input_is_named(api, course, data, field, code):
    sale = buy(api)["transaction"]
    assert_error(api.post(f"/api/v1/transactions/{sale['transaction']}/transition", data), 400, field=field, code=code)
    assert Purchase.objects.get(transaction=sale["transaction"]).status == "APPROVED"


# --- Members area -----------------------------------------------------------------------------------------


def test_first_access_then_modules_completed(api, course, listener):
    code = buy(api)["transaction"]["transaction"]

    first = api.post(f"/api/v1/transactions/{code}/first-access")
    module = api.post(f"/api/v1/transactions/{code}/complete-module", {"module": "2"})
    following = api.post(f"/api/v1/transactions/{code}/complete-module")

    assert first.status_code == 200 and first.json()["event"]["event_type"] == "CLUB_FIRST_ACCESS"
    assert first.json()["notifications"][0]["event_type"] == "CLUB_FIRST_ACCESS"
    assert module.status_code == 200 and module.json()["event"]["event_type"] == "CLUB_MODULE_COMPLETED"
    assert following.status_code == 200
    progress = api.get(f"/api/v1/transactions/{code}").json()["members_area"]
    assert progress["first_access_at"] and [m["completed"] for m in progress["modules"]][:2] == [True, True]
    timeline = [e["event_type"] for e in api.get(f"/api/v1/transactions/{code}").json()["timeline"]]
    assert timeline == ["PURCHASE_APPROVED", "CLUB_FIRST_ACCESS", "CLUB_MODULE_COMPLETED", "CLUB_MODULE_COMPLETED"]


def test_the_members_area_is_closed_until_approval_and_opened_once(api, course):
    code = buy(api, payment_type="pix")["transaction"]["transaction"]
    closed = assert_error(api.post(f"/api/v1/transactions/{code}/first-access"), 400, field="transaction")
    assert "no access" in closed["message"]
    move(api, code, "approved")

    no_entry_yet = api.post(f"/api/v1/transactions/{code}/complete-module")
    assert "first access" in assert_error(no_entry_yet, 400, field="transaction")["message"]
    assert api.post(f"/api/v1/transactions/{code}/first-access").status_code == 200
    assert_error(api.post(f"/api/v1/transactions/{code}/first-access"), 400, field="transaction")
    assert_error(api.post(f"/api/v1/transactions/{code}/complete-module", {"module": "99"}), 400, field="module")
    api.post(f"/api/v1/transactions/{code}/complete-module", {"module": "1"})
    assert_error(api.post(f"/api/v1/transactions/{code}/complete-module", {"module": "1"}), 400, field="module")


# --- Cart abandonment -------------------------------------------------------------------------------------


def test_a_cart_abandonment_answers_its_event_and_no_transaction(api, course, listener):
    response = api.post(
        "/api/v1/cart-abandonments", {"buyer_email": "cart@example.com", "buyer_phone": "5511999998888"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["event"]["event_type"] == "PURCHASE_OUT_OF_SHOPPING_CART"
    assert body["event"]["buyer_email"] == "cart@example.com" and body["transaction"] is None
    assert [n["configuration"]["id"] for n in body["notifications"]] == [listener.pk]
    assert not Purchase.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"buyer_phone": "+55 11"}, "buyer_phone"),
        ({"buyer_email": "x"}, "buyer_email"),
        ({"affiliate_code": "NOBODY"}, "affiliate_code"),
        ({"product": 123}, "product"),
        ({"at": "1900-01-01T00:00:00Z"}, "at"),
    ],
)
def test_bad_cart_input_is_named(api, course, data, field):
    assert_error(api.post("/api/v1/cart-abandonments", data), 400, field=field)
    assert not Event.objects.exists()


# --- Permissions ------------------------------------------------------------------------------------------


def test_a_read_only_token_reads_transactions_but_moves_nothing(producer, course):
    code = transaction_create(owner=producer, product=course, payment_type="billet").purchase.transaction
    reader = Api(producer, bearer_token(producer, scope="read"))

    assert reader.get(f"/api/v1/transactions/{code}").status_code == 200
    assert reader.get("/api/v1/transactions").status_code == 200
    for path, data in [
        ("/api/v1/transactions", {}),
        (f"/api/v1/transactions/{code}/transition", {"to": "approved"}),
        (f"/api/v1/transactions/{code}/first-access", {}),
        (f"/api/v1/transactions/{code}/complete-module", {}),
        ("/api/v1/cart-abandonments", {}),
    ]:
        assert_error(reader.post(path, data), 403, code="permission_denied")
    assert Purchase.objects.get().status == "BILLET_PRINTED" and Event.objects.count() == 1


def test_the_dashboards_session_drives_a_purchase_too(client_for, producer, course):
    client = client_for(producer)
    created = client.post("/api/v1/transactions", {"payment_type": "pix"}, content_type="application/json")
    code = created.json()["transaction"]["transaction"]
    moved = client.post(
        f"/api/v1/transactions/{code}/transition", {"to": "expired", "schedule": True}, content_type="application/json"
    )
    assert moved.status_code == 200 and moved.json()["transaction"]["status"] == "EXPIRED"
    expired_at = parse_datetime(moved.json()["event"]["occurred_at"])
    assert expired_at == parse_datetime(created.json()["transaction"]["payment_due_at"]), "dated when the PIX expires"
    assert expired_at > timezone.now() + timedelta(hours=23)


def test_services_and_the_api_agree_on_the_shape(api, course):
    """A transaction moved by the services (the CLI, scenarios) reads the same through the API."""
    outcome = transaction_create(owner=api.user, product=course, payment_type="pix")
    transaction_transition(owner=api.user, transaction=outcome.purchase.transaction, to="approved")
    body = api.get(f"/api/v1/transactions/{outcome.purchase.transaction}").json()
    assert body["status"] == "APPROVED" and len(body["timeline"]) == 2
