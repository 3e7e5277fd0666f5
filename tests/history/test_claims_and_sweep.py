"""The row is the truth: claims take due notifications in batches, one worker at a time holds each, records save
a batch in one go, and the sweep finds every lane that has work."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from history import claims, services
from history.choices import NotificationStatus
from history.models import Notification
from tests.factories import ConfigurationFactory


def claim(now, *, lane="deliveries", limit=100, lease_seconds=30, **kwargs):
    return claims.notifications_claim(
        lane=lane, limit=limit, now=now, lease_seconds=lease_seconds, max_attempts=5, **kwargs
    )


def attempt(number=1, status=200, trigger="automatic", **kwargs):
    fields = {
        "number": number,
        "trigger": trigger,
        "started_at": timezone.now(),
        "duration_ms": 5,
        "request_url": "http://x",
        "request_headers": {},
        "request_body_sha256": "0" * 64,
        "response_status": status,
        "response_headers": {},
        "response_body": "",
        "response_body_truncated": False,
        "error_kind": "" if 200 <= status < 300 else "http_status",
        "error_message": "",
    }
    return services.AttemptData(**{**fields, **kwargs})


DELIVERED = services.Transition(NotificationStatus.DELIVERED)


def record_of(claimed, data=None, transition=DELIVERED, **kwargs):
    return claims.Record(claimed.pk, claimed.lock_token, data or attempt(), transition, **kwargs)


@pytest.fixture
def publish(producer, product):
    from history.publishing import event_record

    def publish(configurations=1):
        for _ in range(configurations - ConfigurationFactory._meta.model.objects.filter(owner=producer).count()):
            ConfigurationFactory(owner=producer)
        return event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product).notifications

    return publish


@pytest.fixture
def notification(publish):
    return publish()[0]


def test_a_claimed_notification_cannot_be_claimed_again_until_its_lease_ends(notification):
    now = timezone.now()
    [first] = claim(now)
    assert first.pk == notification.pk and first.lock_token
    assert claim(now) == [], "claimed: not due for anyone else"
    assert claim(now + timedelta(seconds=29)) == []
    [second] = claim(now + timedelta(seconds=31))
    assert second.lock_token != first.lock_token
    assert second.interrupted_at == first.claimed_at == now, "it knows it takes over a claim that never finished"


def test_final_not_yet_due_or_other_lane_notifications_are_not_claimed(notification):
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=now + timedelta(seconds=10))
    assert claim(now) == []
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=now, status=NotificationStatus.DELIVERED)
    assert claim(now) == []
    Notification.objects.filter(pk=notification.pk).update(status=NotificationStatus.RETRYING, lane="retries")
    assert claim(now) == [], "waits in the retries lane"
    assert [c.pk for c in claim(now, lane="retries")] == [notification.pk]


def test_a_batch_is_claimed_oldest_first_up_to_the_limit(publish):
    notifications = [publish()[0] for _ in range(5)]
    now = timezone.now()
    for age, n in enumerate(notifications):  # the last one published has waited longest
        Notification.objects.filter(pk=n.pk).update(next_attempt_at=now - timedelta(seconds=age))

    batch = claim(now, limit=3)

    assert sorted(c.pk for c in batch) == sorted(n.pk for n in notifications[2:])
    assert len({c.lock_token for c in batch}) == 1, "one claim, one token"
    assert sorted(c.pk for c in claim(now)) == sorted(n.pk for n in notifications[:2]), "the rest, for the next"


def test_a_configuration_gets_no_more_than_its_places(publish, producer):
    for _ in range(4):
        publish(configurations=3)  # 4 events x 3 configurations
    [full, partial, free] = ConfigurationFactory._meta.model.objects.filter(owner=producer).order_by("id")

    batch = claim(timezone.now(), places={full.pk: 0, partial.pk: 1}, default_places=2)

    taken = [c.configuration_id for c in batch]
    assert taken.count(full.pk) == 0, "no place left: skipped by the claim itself"
    assert taken.count(partial.pk) == 1
    assert taken.count(free.pk) == 2
    left = Notification.objects.filter(lock_token__isnull=True, configuration=full)
    assert left.count() == 4 and all(n.next_attempt_at <= timezone.now() for n in left), "still due, untouched"


def test_a_claim_costs_the_same_few_statements_for_one_notification_or_a_hundred(publish):
    def statements(count):
        for _ in range(count):
            publish()
        with CaptureQueriesContext(connection) as queries:
            batch = claim(timezone.now(), limit=count)
        assert len(batch) == count
        return len([q for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))])

    # resends, claims a dead worker left, due rows (and on SQLite the pick before it), then their load
    assert statements(1) == statements(100) == (4 if connection.vendor == "postgresql" else 5)


def test_loading_a_claims_rows_starts_from_an_index_whatever_the_size_of_history(publish):
    """Loading a claim's rows by its token alone had no index to start from: a read of every notification ever
    kept, once per claim (the bench found it, on a table whose statistics were not yet gathered). The load must
    start from an index condition."""
    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's query plans (CI runs it)")
    for _ in range(5):
        publish()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE history_notification")
        cursor.execute("SET LOCAL enable_seqscan = off")  # as on a big table: a plan without an index shows it
        with CaptureQueriesContext(connection) as queries:
            assert len(claim(timezone.now(), limit=3)) == 3
        (load,) = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT n.id,")]
        cursor.execute("EXPLAIN (FORMAT JSON) " + load)
        scans = [node for node in plan_nodes(cursor.fetchone()[0][0]["Plan"]) if node.get("Alias") == "n"]
    assert scans and all("Index Cond" in node or "Recheck Cond" in node for node in scans), scans


def plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def test_a_manual_resend_is_claimed_first_and_keeps_the_schedule(notification):
    now = timezone.now()
    later = now + timedelta(hours=1)
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.RETRYING, next_attempt_at=later, resend_requested_at=now
    )
    [claimed] = claim(now)
    assert claimed.manual
    assert Notification.objects.get(pk=notification.pk).next_attempt_at == later


def test_a_batch_of_records_is_one_statement_and_a_lost_claim_saves_nothing(publish):
    for _ in range(3):
        publish()
    now = timezone.now()
    [first, second, third] = claim(now, lease_seconds=1)
    [taken_over] = [c for c in claim(now + timedelta(seconds=2), limit=1)]  # first's lease ran out
    assert taken_over.pk == first.pk

    with CaptureQueriesContext(connection) as queries:
        saved = claims.attempts_record(
            records=[
                record_of(first),
                record_of(second, attempt(status=500), services.Transition("retrying", now, ""), lane="retries"),
                record_of(third),
            ]
        )

    assert saved == {second.pk, third.pk}, "the stale claim of the first saves nothing: its taker's record stands"
    if connection.vendor == "postgresql":
        assert len(queries.captured_queries) == 1
    rows = {n.pk: n for n in Notification.objects.filter(pk__in=[first.pk, second.pk, third.pk])}
    assert rows[first.pk].attempt_count == 0 and rows[first.pk].lock_token == taken_over.lock_token
    assert (rows[second.pk].status, rows[second.pk].lane, rows[second.pk].attempt_count) == ("retrying", "retries", 1)
    assert rows[second.pk].lock_token is None and rows[second.pk].last_status_code == 500
    assert (rows[third.pk].status, rows[third.pk].delivered_at is not None) == ("delivered", True)
    assert rows[third.pk].attempts.get().response_status == 200


def test_the_sweep_finds_every_lane_with_work(notification):
    now = timezone.now()
    lanes = ["deliveries", "retries", "tenant-a"]
    assert claims.lanes_with_work(lanes=lanes, now=now) == ["deliveries"]
    Notification.objects.filter(pk=notification.pk).update(lane="tenant-a")
    assert claims.lanes_with_work(lanes=lanes, now=now) == ["tenant-a"]
    # not while a worker holds it, nor before it is due, nor once it is final
    Notification.objects.filter(pk=notification.pk).update(
        locked_until=now + timedelta(seconds=5), lock_token=uuid.uuid4()
    )
    assert claims.lanes_with_work(lanes=lanes, now=now) == []
    assert claims.lanes_with_work(lanes=lanes, now=now + timedelta(seconds=6)) == ["tenant-a"], "its worker died"
    Notification.objects.filter(pk=notification.pk).update(
        locked_until=None, lock_token=None, next_attempt_at=now + timedelta(seconds=5)
    )
    assert claims.lanes_with_work(lanes=lanes, now=now) == []
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=now, status=NotificationStatus.FAILED)
    assert claims.lanes_with_work(lanes=lanes, now=now) == []
    # a manual resend of a failed notification is work too
    Notification.objects.filter(pk=notification.pk).update(resend_requested_at=now, lane="retries")
    assert claims.lanes_with_work(lanes=lanes, now=now) == ["retries"]


def test_purge_deletes_only_history_older_than_the_cutoff(notification, product, producer):
    from history.models import Event
    from history.publishing import event_record

    old_event = notification.event
    Event.objects.filter(pk=old_event.pk).update(created_at=timezone.now() - timedelta(days=61))
    recent = event_record(owner=producer, event_type="PURCHASE_APPROVED", product=product)

    deleted = services.history_purge(before=timezone.now() - timedelta(days=60), batch_size=1)

    assert deleted == 1
    assert not Notification.objects.filter(pk=notification.pk).exists()
    assert Event.objects.filter(pk=recent.event.pk).exists()


def test_the_sweep_records_an_attempt_cut_off_on_a_notification_nobody_will_claim_again(notification):
    """A worker died mid-POST, then the configuration was disabled: the lost attempt still shows."""
    now = timezone.now()
    claim(now, lease_seconds=1)
    services.notifications_cancel_for_configuration(configuration_id=notification.configuration_id, reason="off")

    assert services.notifications_close_interrupted(now=now) == 0, "its lease has not run out yet"
    assert services.notifications_close_interrupted(now=now + timedelta(seconds=2)) == 1

    closed = Notification.objects.get(pk=notification.pk)
    assert closed.status == NotificationStatus.CANCELLED and closed.lock_token is None
    assert closed.attempt_count == 1 and closed.last_status_code == -1
    [lost] = closed.attempts.all()
    assert (lost.number, lost.response_status, lost.error_kind) == (1, -1, "interrupted")
    assert lost.started_at == now
    assert services.notifications_close_interrupted(now=now + timedelta(seconds=3)) == 0, "recorded once"


def test_nul_in_what_a_receiver_sent_is_stored_escaped(notification):
    [claimed] = claim(timezone.now())
    data = attempt(
        status=500,
        response_headers={"X-A\x00": "b\x00c"},
        response_body="o\x00k",
        error_message="HTTP 500 Bro\x00ken",
    )
    transition = services.Transition(NotificationStatus.FAILED, None, "HTTP 500 Bro\x00ken")

    assert claims.attempts_record(records=[record_of(claimed, data, transition)]) == {notification.pk}

    stored = Notification.objects.get(pk=notification.pk).attempts.get()
    assert stored.response_body == "o\\x00k" and stored.response_headers == {"X-A\\x00": "b\\x00c"}
    assert stored.error_message == "HTTP 500 Bro\\x00ken" and stored.response_escaped
    assert Notification.objects.get(pk=notification.pk).status_reason == "HTTP 500 Bro\\x00ken"


def test_a_resend_of_a_scheduled_notification_waits_for_its_moment(notification):
    """However it was asked for (a bulk resend of what a disabled configuration missed, say), a resend never
    sends a webhook before the moment it is dated."""
    now = timezone.now()
    notification.event.__class__.objects.filter(pk=notification.event_id).update(occurred_at=now + timedelta(days=7))
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.CANCELLED, next_attempt_at=None, resend_requested_at=now
    )

    assert claim(now) == []
    assert claims.lanes_with_work(lanes=["deliveries"], now=now) == []
    [claimed] = claim(now + timedelta(days=7))
    assert claimed.manual
