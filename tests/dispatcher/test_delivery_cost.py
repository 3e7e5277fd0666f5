"""What one delivery costs the database: a fixed, small number of queries (a guard against N+1 creeping in)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from configurations.services import configuration_create
from dispatcher.delivery import notification_deliver
from dispatcher.services import event_record
from history.choices import NotificationStatus


def test_one_delivery_is_two_statements_on_postgresql_and_four_on_sqlite(db, httpserver, producer, product):
    """Claim it and load it with its configuration, event and hottok; then save the attempt with the new
    status. PostgreSQL does each in one statement (a data-modifying WITH); SQLite in two."""
    httpserver.expect_request("/hook").respond_with_data("ok", status=200)
    configuration_create(owner=producer, name="r", events=["PURCHASE_APPROVED"], url=httpserver.url_for("/hook"))
    [notification] = event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product).notifications

    with CaptureQueriesContext(connection) as queries:
        assert notification_deliver(notification_id=notification.pk) == "delivered"

    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    statements = [s for s in statements if s not in ("SAVEPOINT", "RELEASE", "BEGIN")]
    expected = ["WITH", "WITH"] if connection.vendor == "postgresql" else ["UPDATE", "SELECT", "UPDATE", "INSERT"]
    assert statements == expected, queries.captured_queries
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.DELIVERED and notification.attempt_count == 1
    [request, _response] = httpserver.log[0]
    assert request.headers["X-HOTMART-HOTTOK"] == producer.webhook_account.hottok
