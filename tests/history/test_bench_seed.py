"""The benchmark's History at scale writes rows with COPY, column by column, past the models: a column added
to a history table without a default broke it (the bench found out after 40 minutes). This runs it small."""

import pytest
from django.db import connection

from bench.history_scale import history_at_scale
from history.models import Attempt, Notification


@pytest.mark.django_db(transaction=True)
def test_the_history_benchmark_seeds_rows_the_pages_can_show(producer):
    if connection.vendor != "postgresql":
        pytest.skip("the benchmark seeds PostgreSQL with COPY (CI runs it)")

    result = history_at_scale(producer, 60)

    assert Notification.objects.filter(owner=producer).count() == 60
    assert Attempt.objects.filter(notification__owner=producer).count() == 180
    seeded = Notification.objects.filter(owner=producer).first()
    assert seeded.lane == "deliveries" and seeded.attempts.filter(response_escaped=False).count() == 3
    assert set(result["timings"]) >= {"History page, first page", "API list, first page"}
    assert all(timing["queries"] > 0 for timing in result["timings"].values())
