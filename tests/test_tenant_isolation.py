"""Tenant isolation: a second producer walks every dashboard page and every API operation that names an
object, against the first producer's objects, and gets 404 (or 403, or 405 for a method the page does not
take) every time; nothing of the first producer's changes, and no list shows it.

The walk is built from the URL configuration and the OpenAPI schema, so a new page or operation is walked as
soon as it exists; one whose objects the walk does not know makes the test fail until it is added below.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from configurations import services as configuration_services
from configurations.models import Affiliation, Configuration, Product
from history.models import BulkResend, Notification
from history.publishing import bulk_resend_start, event_record
from inbox import services as inbox_services
from inbox.models import Inbox, InboxRequest
from receiver_checks.models import ReceiverCheck
from receiver_checks.services import receiver_check_start
from sales import services as sales_services
from sales.models import Purchase, Subscription
from tests.api.conftest import bearer_token
from tests.factories import UserFactory

REFUSED = {403, 404, 405}

# Pages that take a parameter but own no producer's object: the catalogue, and the inbox catcher (whose
# secret token is the only key; it is meant for anyone who has the URL).
PUBLIC = {"documentation_event", "inbox:catch", "inbox:catch-path"}


@pytest.fixture
def victim(db):
    """A producer with one of everything."""
    from django.utils import timezone

    owner = UserFactory(username="victim")
    configuration_services.account_get_or_create(user=owner)
    course = configuration_services.product_create(owner=owner, name="Curso secreto", hotmart_id=7770001)
    club = configuration_services.product_create(
        owner=owner, name="Clube secreto", hotmart_id=7770002, is_subscription=True
    )
    configuration = configuration_services.configuration_create(
        owner=owner, name="Secret receiver", events=["PURCHASE_APPROVED"], url="http://127.0.0.1:9/secret"
    )
    notification = event_record(owner=owner, event_type="PURCHASE_APPROVED", product=course).notifications[0]
    job = bulk_resend_start(
        owner=owner,
        configuration=configuration,
        window_start=timezone.now() - timezone.timedelta(days=1),
        window_end=timezone.now(),
    )
    credential = configuration_services.api_credential_create(owner=owner, name="victim's CI").credential
    hook = configuration_services.hook_subscribe(owner=owner, target_url="https://hooks.example.com/x", event="order")
    sale = sales_services.transaction_create(owner=owner, product=club, plan="monthly")
    configuration_services.affiliate_add(product=course, username="victims-affiliate", commission_percent="33")
    inbox = inbox_services.inbox_create(owner=owner, name="Victim inbox")
    receiver_check, _ = receiver_check_start(owner=owner, configuration=configuration)
    inbox_services.inbox_catch(
        token=inbox.token,
        request=inbox_services.CaughtRequest(
            method="POST", path="/", headers={}, body=b"{}", body_size=2, body_truncated=False, remote_addr="1.2.3.4"
        ),
    )
    return {
        "owner": owner,
        "configuration": configuration,
        "notification": notification,
        "job": job,
        "credential": credential,
        "hook": hook,
        "transaction": sale.purchase.transaction,
        "subscription": sale.subscription.subscriber_code,
        "inbox": inbox,
        "request": InboxRequest.objects.get(inbox=inbox),
        "products": (course, club),
        "receiver_check": receiver_check,
    }


def snapshot(victim) -> dict:
    """What must not change when someone else tries."""
    owner = victim["owner"]
    notifications = Notification.objects.filter(owner=owner)
    return {
        "configurations": sorted(Configuration.objects.filter(owner=owner).values_list("id", "status", "name")),
        "notifications": sorted(notifications.values_list("id", "attempt_count", "resend_requested_at", "status")),
        "jobs": sorted(BulkResend.objects.filter(owner=owner).values_list("id", "status")),
        "purchases": sorted(Purchase.objects.filter(owner=owner).values_list("transaction", "status")),
        "subscriptions": sorted(
            Subscription.objects.filter(owner=owner).values_list("subscriber_code", "status", "plan_key")
        ),
        "inboxes": sorted(Inbox.objects.filter(owner=owner).values_list("id", "name", "status_code", "received_count")),
        "requests": InboxRequest.objects.filter(inbox__owner=owner).count(),
        "products": sorted(Product.objects.filter(owner=owner).values_list("hotmart_id", "name", "price", "plans")),
        "affiliations": sorted(
            Affiliation.objects.filter(product__owner=owner).values_list("id", "commission_percent")
        ),
        "offers": sorted(
            Configuration.objects.filter(owner=owner).values_list("id", "resend_offer_since", "resend_offer_until")
        ),
        "sharing": owner.webhook_account.__class__.objects.get(user=owner).affiliates_see_buyer_data,
        "hottok": owner.webhook_account.__class__.objects.get(user=owner).hottok,
        "credential": victim["credential"].__class__.objects.filter(pk=victim["credential"].pk).exists(),
        "receiver_checks": sorted(ReceiverCheck.objects.filter(owner=owner).values_list("id", "status")),
    }


def page_kwargs(name: str, victim) -> dict | None:
    """The URL kwargs naming the victim's object for a page, or None when the walk does not know the page."""
    configuration, notification = victim["configuration"].pk, victim["notification"].pk
    known = {
        "configurations:": {"pk": configuration},
        "history:detail": {"pk": notification},
        "history:result": {"pk": notification},
        "history:resend": {"pk": notification},
        "history:bulk_detail": {"pk": victim["job"].pk},
        "simulator:subscription": {"code": victim["subscription"]},
        "simulator:renew": {"code": victim["subscription"]},
        "simulator:subscription_cancel": {"code": victim["subscription"]},
        "simulator:switch_plan": {"code": victim["subscription"]},
        "simulator:charge_day": {"code": victim["subscription"]},
        "simulator:": {"code": victim["transaction"]},
        "inboxes:request": {"pk": victim["inbox"].pk, "request_id": victim["request"].pk},
        "inboxes:": {"pk": victim["inbox"].pk},
        "credentials:revoke": {"credential_id": victim["credential"].pk},
        "receiver_checks:detail": {"pk": victim["receiver_check"].pk},
        "products:edit": {"hotmart_id": victim["products"][0].hotmart_id},
    }
    if name in known:
        return known[name]
    prefix = name.split(":")[0] + ":"
    return known.get(prefix)


def object_pages():
    """(name, pattern) of every page that takes URL arguments, the admin aside (producers have no access)."""

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin" or str(pattern.pattern).startswith("api/"):
                    continue
                inner = (
                    f"{namespace}:{pattern.namespace}"
                    if namespace and pattern.namespace
                    else (pattern.namespace or namespace)
                )
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.pattern.converters:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern

    return list(walk(get_resolver().url_patterns))


def test_every_page_refuses_another_producers_objects(victim):
    stranger = UserFactory(username="stranger")
    configuration_services.account_get_or_create(user=stranger)
    browser = Client()
    browser.force_login(stranger)
    before = snapshot(victim)

    walked = []
    for name, _pattern in object_pages():
        if name in PUBLIC:
            continue
        kwargs = page_kwargs(name, victim)
        assert kwargs is not None, f"the tenant walk does not know the page {name!r}: add its objects to page_kwargs"
        url = reverse(name, kwargs=kwargs)
        for method in ("get", "post"):
            response = getattr(browser, method)(url, HTTP_HX_REQUEST="true" if method == "get" else "")
            assert response.status_code in REFUSED, f"{method.upper()} {url} ({name}) answered {response.status_code}"
        walked.append(name)

    assert snapshot(victim) == before
    assert len(walked) >= 25, walked  # every object page of the dashboard, simulator, inboxes and credentials


def test_no_list_page_shows_another_producers_objects(victim):
    stranger = UserFactory(username="stranger")
    configuration_services.account_get_or_create(user=stranger)
    browser = Client()
    browser.force_login(stranger)
    secrets = [
        "Secret receiver",
        victim["transaction"],
        victim["subscription"],
        victim["inbox"].token,
        "Victim inbox",
        str(victim["credential"].client_id),
        "Curso secreto",
        "hooks.example.com",
        "victims-affiliate",
        f"/history/{victim['notification'].pk}/",
    ]
    pages = ["overview", "configurations:list", "configurations:create", "history:list", "history:sent",
             "history:pending", "history:bulk_list", "history:bulk_new", "simulator:index", "inboxes:list",
             "credentials:index", "documentation", "receiver_checks:list", "products:list",
             "affiliates:list"]  # fmt: skip
    for name in pages:
        page = browser.get(reverse(name)).content.decode()
        for secret in secrets:
            assert secret not in page, f"{name} shows {secret!r}"
    search = browser.get(reverse("history:list"), {"q": victim["transaction"]}).content.decode()
    assert f"/history/{victim['notification'].pk}/" not in search


def api_operations():
    """(method, path template) of every API operation with a path parameter, from the OpenAPI schema."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        if "{" not in path:
            continue
        for method in operations:
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method, path


def api_path(template: str, victim) -> str:
    """The path template filled with the victim's object for that resource."""
    resource = template.split("/")[3]
    ids = {
        "configurations": victim["configuration"].pk,
        "notifications": victim["notification"].pk,
        "bulk-resends": victim["job"].pk,
        "hooks": victim["hook"].pk,
        "inboxes": victim["inbox"].pk,
        "receiver-checks": victim["receiver_check"].pk,
    }
    values = {"transaction": victim["transaction"], "subscriber_code": victim["subscription"]}
    if resource in ids:
        values["id"] = ids[resource]
    names = re.findall(r"{(\w+)}", template)
    unknown = [n for n in names if n not in values]
    assert not unknown, f"the tenant walk does not know {template} {unknown}: add its objects to api_path"
    return re.sub(r"{(\w+)}", lambda m: quote(str(values[m.group(1)])), template)


def test_every_api_operation_refuses_another_producers_objects(victim):
    stranger = UserFactory(username="stranger")
    configuration_services.account_get_or_create(user=stranger)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_token(stranger)}")
    before = snapshot(victim)

    walked = []
    for method, template in api_operations():
        path = api_path(template, victim)
        body = {"name": "x", "to": "REFUNDED", "plan": "yearly", "day": 5, "url": "https://example.com/x"}
        response = getattr(api, method)(path, body, format="json") if method != "get" else api.get(path)
        assert response.status_code in REFUSED, f"{method.upper()} {path} answered {response.status_code}"
        assert response.status_code != 405 or method != "get", f"GET {path} should exist and answer 404"
        walked.append(f"{method} {template}")

    assert snapshot(victim) == before
    assert len(walked) >= 25, walked


def test_no_api_list_shows_another_producers_objects(victim):
    stranger = UserFactory(username="stranger")
    configuration_services.account_get_or_create(user=stranger)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_token(stranger)}")
    for path in ["/api/v1/configurations", "/api/v1/products", "/api/v1/notifications", "/api/v1/bulk-resends",
                 "/api/v1/hooks", "/api/v1/transactions", "/api/v1/subscriptions", "/api/v1/affiliations",
                 "/api/v1/inboxes", "/api/v1/account", "/api/v1/receiver-checks"]:  # fmt: skip
        text = api.get(path).content.decode()
        for secret in ("Secret receiver", victim["transaction"], victim["subscription"], victim["inbox"].token,
                       "Curso secreto", "hooks.example.com"):  # fmt: skip
            assert secret not in text, f"{path} shows {secret!r}"
    account = api.get("/api/v1/account").json()
    assert victim["owner"].webhook_account.hottok not in str(account)
