"""What one delivery costs the database: a fixed, small number of queries (a guard against N+1 creeping in)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from configurations.services import configuration_create
from dispatcher.delivery import notification_deliver
from dispatcher.services import event_record
from history.choices import NotificationStatus


def test_one_delivery_is_four_queries(db, httpserver, producer, product):
    """Claim (UPDATE), load it with its configuration, event and hottok (SELECT), then the attempt and the
    new status (UPDATE, INSERT)."""
    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))
    [notification] = event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product).notifications

    with CaptureQueriesContext(connection) as queries:
        assert notification_deliver(notification_id=notification.pk) == "delivered"

    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    statements = [s for s in statements if s not in ("SAVEPOINT", "RELEASE", "BEGIN")]
    assert statements == ["UPDATE", "SELECT", "UPDATE", "INSERT"], queries.captured_queries
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.DELIVERED and notification.attempt_count == 1
    [request, _response] = httpserver.log[0]
    assert request.headers["X-HOTMART-HOTTOK"] == producer.webhook_account.hottok
