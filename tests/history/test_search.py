"""History queries: filters and keyset pagination over an owner's notifications."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from history.models import Notification
from history.publishing import event_record
from history.selectors import (
    NotificationFilters,
    delivery_stats,
    encode_cursor,
    latest_status_codes,
    notification_search,
)
from tests.factories import ConfigurationFactory, UserFactory


@pytest.fixture
def history(producer, product):
    approved = ConfigurationFactory(owner=producer, events=["PURCHASE_APPROVED", "PURCHASE_REFUNDED"])
    for n in range(5):
        event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product, buyer_email=f"b{n}@example.com")
    event_record(owner=producer, event_type="PURCHASE_REFUNDED", product=product, buyer_email="Refund@Example.com")
    return approved


def test_newest_first_in_pages_that_chain_without_gaps_or_repeats(producer, history):
    seen = []
    cursor = None
    for _ in range(10):
        page = notification_search(owner_id=producer.pk, cursor=cursor, limit=2)
        seen += [n.pk for n in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(Notification.objects.order_by("-created_at", "-id").values_list("id", flat=True))
    assert len(seen) == 6


def test_notifications_created_in_the_same_instant_still_page_correctly(producer, history):
    Notification.objects.update(created_at=timezone.now())
    first = notification_search(owner_id=producer.pk, limit=4)
    second = notification_search(owner_id=producer.pk, limit=4, cursor=first.next_cursor)
    assert len(first.items) == 4 and len(second.items) == 2
    assert not {n.pk for n in first.items} & {n.pk for n in second.items}


def test_filters(producer, history):
    def ids(**filters):
        return {n.pk for n in notification_search(owner_id=producer.pk, filters=NotificationFilters(**filters)).items}

    refunded = Notification.objects.get(event_type="PURCHASE_REFUNDED")
    assert ids(event_type="PURCHASE_REFUNDED") == {refunded.pk}
    assert ids(query="refund@example.com") == {refunded.pk}, "e-mail search ignores case"
    assert ids(query=refunded.event.transaction) == {refunded.pk}
    assert len(ids(status="pending")) == 6 and ids(status="delivered") == set()
    assert len(ids(configuration_id=history.pk)) == 6
    old = Notification.objects.exclude(pk=refunded.pk).first()
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    assert old.pk not in ids(since=timezone.now() - timedelta(days=1))
    assert ids(until=timezone.now() - timedelta(days=2)) == {old.pk}


def test_another_owner_sees_nothing(producer, history):
    assert notification_search(owner_id=UserFactory().pk).items == []


def test_a_forged_cursor_is_a_validation_error(producer, history):
    with pytest.raises(ValidationError) as caught:
        notification_search(owner_id=producer.pk, cursor="not-a-cursor")
    assert "cursor" in caught.value.message_dict


def test_stats_and_latest_result(producer, history):
    assert delivery_stats(owner_id=producer.pk)["pending"] == 6
    latest = latest_status_codes(configuration_ids=[history.pk])
    assert latest[history.pk][0] == "pending"


@pytest.mark.django_db
def test_a_deep_page_starts_at_its_cursor_in_the_index_instead_of_walking_there(producer, history):
    """A million notifications made a page at the 500,000th wait for the database to walk 500,000 index
    entries (the bench found it). The cursor must bound the index scan, not only filter it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's query plan (CI runs it)")
    template = Notification.objects.first()
    start = timezone.now() - timedelta(days=1)
    clones = []
    for n in range(400):
        clone = Notification.objects.get(pk=template.pk)
        clone.pk = None
        clone.created_at = start + timedelta(seconds=n)
        clones.append(clone)
    Notification.objects.bulk_create(clones)
    middle = Notification.objects.order_by("-created_at", "-id")[200]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE history_notification")
        cursor.execute("SET LOCAL enable_seqscan = off")  # as on a big table, where the index is the only way
        with CaptureQueriesContext(connection) as captured:
            page = notification_search(owner_id=producer.pk, cursor=encode_cursor(middle), limit=50)
        cursor.execute("EXPLAIN ANALYZE " + captured.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert page.items[0].pk == Notification.objects.order_by("-created_at", "-id")[201].pk, "the page after it"
    removed = [int(line.split(":")[1]) for line in plan.splitlines() if "Rows Removed by Filter" in line]
    assert sum(removed) < 10, plan
