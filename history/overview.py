"""The Overview, the dashboard's landing page: deliveries of the last 24 hours, what fails, a chart per hour."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from configurations import selectors as configuration_selectors
from history import selectors as history_selectors
from history.charts import HEIGHT, WIDTH, hour_bars
from history.choices import NotificationStatus
from history.selectors import NotificationFilters


@login_required
def overview(request):
    """Deliveries of the last 24 hours, their success rate, what is failing, and a chart per hour."""
    owner_id = request.user.pk
    stats = history_selectors.delivery_stats(owner_id=owner_id, include_tests=False)
    finished = stats[NotificationStatus.DELIVERED] + stats[NotificationStatus.FAILED]
    buckets = history_selectors.deliveries_per_hour(owner_id=owner_id)
    bars, peak = hour_bars(buckets)
    failures = history_selectors.notification_search(
        owner_id=owner_id, filters=NotificationFilters(status=NotificationStatus.FAILED, is_test=False), limit=5
    ).items
    context = {
        "stats": stats,
        "total": sum(stats.values()),
        "in_progress": stats[NotificationStatus.PENDING] + stats[NotificationStatus.RETRYING],
        "success_rate": round(100 * stats[NotificationStatus.DELIVERED] / finished, 1) if finished else None,
        "bars": bars,
        "peak": peak,
        "chart_width": WIDTH,
        "chart_height": HEIGHT,
        "buckets": buckets,
        "failing": history_selectors.configurations_failing(owner_id=owner_id),
        "failures": failures,
        "has_configurations": configuration_selectors.configuration_list(owner_id=owner_id).exists(),
    }
    return render(request, "dashboard/overview.html", context)
