"""What deliveries cost the database: a batch of them costs the same few statements as one (records are saved
in batches, not one by one), and a POST in flight holds no database connection."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from configurations.services import configuration_create
from engine import attempts, batches, transport
from engine.conf import dispatcher_settings
from engine.loop import limits_for
from history.choices import NotificationStatus
from history.models import Notification
from history.publishing import event_record


def statements(queries) -> list[str]:
    found = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    return [s for s in found if s not in ("SAVEPOINT", "RELEASE", "BEGIN")]


def deliver_a_batch(producer, product, httpserver, count: int) -> tuple[list[str], list[str]]:
    """``count`` events to two configurations: claim them as a worker does, POST them, save the batch; the
    statements of the claim and of the save."""
    for _ in range(count):
        event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product)
    conf = dispatcher_settings()
    with CaptureQueriesContext(connection) as claiming:
        sends = batches.claim(lane="deliveries", limit=1000, places={}, conf=conf)
    assert len(sends) == 2 * count
    outcomes = [
        attempts.conclude(
            send,
            transport.post(url=send.url, body=send.body, headers=send.headers, limits=limits_for(conf)),
            conf=conf,
            now=timezone.now(),
            jitter=0,
        )
        for send in sends
    ]
    with CaptureQueriesContext(connection) as saving:
        assert batches.save(outcomes=outcomes) == {send.claimed.pk for send in sends}
    return statements(claiming), statements(saving)


@pytest.mark.parametrize("count", [1, 50])
def test_a_batch_of_deliveries_costs_the_same_few_statements_as_one(db, httpserver, producer, product, count):
    httpserver.expect_request("/a").respond_with_data("ok", status=200)
    httpserver.expect_request("/b").respond_with_data("ok", status=200)
    for path in ("/a", "/b"):
        configuration_create(owner=producer, name=path, events=["PURCHASE_APPROVED"], url=httpserver.url_for(path))

    claim, save = deliver_a_batch(producer, product, httpserver, count)

    # the claim: manual resends, claims a dead worker left, due notifications, then their configuration, event
    # and hottok; the save: the attempts with their transitions in one statement, and the failing clocks
    if connection.vendor == "postgresql":
        assert claim == ["WITH", "WITH", "WITH", "SELECT"], claim
        assert save == ["WITH", "SELECT"], save
    else:
        assert claim == ["UPDATE", "UPDATE", "SELECT", "UPDATE", "SELECT"], claim
        assert save == ["UPDATE", "INSERT"] * (2 * count) + ["SELECT"], save
    assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.DELIVERED}
    [request, _response] = httpserver.log[0]
    assert request.headers["X-HOTMART-HOTTOK"] == producer.webhook_account.hottok
