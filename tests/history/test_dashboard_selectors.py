"""Selectors behind the dashboard: per-hour chart, failing configurations, last results, the resend offer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from history.choices import NotificationStatus
from history.models import Notification
from history.publishing import configuration_stop
from history.selectors import (
    configurations_failing,
    deliveries_per_hour,
    latest_status_codes,
    resend_offer_window,
)
from tests.factories import ConfigurationFactory
from tests.pages import add_attempt, record

pytestmark = pytest.mark.django_db


def test_deliveries_per_hour_buckets_the_last_day_by_outcome(producer, product, configuration):
    delivered, failed, waiting, old = (record(producer, product)[0] for _ in range(4))
    add_attempt(delivered, status=200)
    add_attempt(failed, status=500, final=NotificationStatus.FAILED)
    now = timezone.now()
    Notification.objects.filter(pk=failed.pk).update(created_at=now - timedelta(hours=3))
    Notification.objects.filter(pk=old.pk).update(created_at=now - timedelta(hours=30))

    buckets = deliveries_per_hour(owner_id=producer.pk, now=now)

    assert len(buckets) == 24 and buckets[-1].start <= now < buckets[-1].start + timedelta(hours=1)
    assert (buckets[-1].delivered, buckets[-1].failed, buckets[-1].open) == (1, 0, 1)
    assert buckets[-4].failed == 1
    assert sum(b.total for b in buckets) == 3, "older than a day is left out"


def test_failing_configurations_are_the_disabled_and_the_failing_ones(producer, product):
    healthy = ConfigurationFactory(owner=producer, name="healthy")
    flaky = ConfigurationFactory(owner=producer, name="flaky", events=["PURCHASE_REFUNDED"])
    dead = ConfigurationFactory(owner=producer, name="dead", events=["PURCHASE_CHARGEBACK"])
    [ok] = record(producer, product)
    add_attempt(ok, status=200)
    [bad] = record(producer, product, event_type="PURCHASE_REFUNDED")
    add_attempt(bad, status=503)
    configuration_stop(configuration_id=dead.pk, reason="gone")

    names = [c.name for c in configurations_failing(owner_id=producer.pk)]

    assert names == ["dead", "flaky"] and healthy.name not in names
    assert flaky.pk and ok.configuration_id == healthy.pk


def test_latest_status_codes_is_one_query_for_many_configurations(producer, product):
    configurations = [ConfigurationFactory(owner=producer, name=f"c{n}") for n in range(6)]
    notifications = record(producer, product)
    add_attempt(notifications[0], status=201)
    with CaptureQueriesContext(connection) as queries:
        latest = latest_status_codes(configuration_ids=[c.pk for c in configurations])
    assert len(queries) == 1
    assert latest[notifications[0].configuration_id][:2] == ("delivered", 201)
    assert len(latest) == 6


def test_the_offer_covers_what_failed_or_was_cancelled_since_the_last_success(producer, product, configuration):
    early_failure, retried, success, after = (record(producer, product)[0] for _ in range(4))
    now = timezone.now()
    # An old failure, fixed since: a later notification was delivered after it.
    add_attempt(early_failure, status=500, final=NotificationStatus.FAILED)
    Notification.objects.filter(pk=early_failure.pk).update(updated_at=now - timedelta(hours=2))
    add_attempt(retried, status=503)  # older than the success, still retrying when the configuration stops
    add_attempt(success, status=200)
    add_attempt(after, status=-1, error_kind="connection_refused", final=NotificationStatus.FAILED)
    configuration_stop(configuration_id=configuration.pk, reason="refused")  # cancels `retried`

    start, count = resend_offer_window(configuration=configuration)

    retried_at = Notification.objects.get(pk=retried.pk).created_at
    assert start == retried_at and count == 2, "the cancelled one and the failure after the success"


def test_no_offer_when_nothing_was_missed(producer, product, configuration):
    [done] = record(producer, product)
    add_attempt(done, status=200)
    configuration_stop(configuration_id=configuration.pk, reason="paused")
    assert resend_offer_window(configuration=configuration) is None
