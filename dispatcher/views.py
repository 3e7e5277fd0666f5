"""Operational endpoints: ``/health`` for load balancers and orchestrators, ``/metrics`` for Prometheus."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from dispatcher import metrics

WORKER_STALE_AFTER = 30.0  # seconds without a heartbeat before /health says no worker is alive


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database and Redis answer and a worker beat recently; 503 naming what is wrong."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is what the probe reports
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        metrics.redis_client().ping()
        checks["redis"] = "ok"
        seen = metrics.workers_last_seen()
        freshest = min(seen.values(), default=None)
        if freshest is None:
            checks["worker"] = "error: no worker has ever reported"
        elif freshest > WORKER_STALE_AFTER:
            checks["worker"] = f"error: last worker heartbeat {freshest:.0f} s ago"
        else:
            checks["worker"] = f"ok: {sum(1 for s in seen.values() if s <= WORKER_STALE_AFTER)} alive"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {type(exc).__name__}"
        checks.setdefault("worker", "unknown: Redis is unreachable")
    healthy = all(value.startswith("ok") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """The web process answers and reaches its database: the container health check of the web service."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001
        return JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok"})


_registry = CollectorRegistry(auto_describe=False)
_registry.register(metrics.DispatcherCollector())


@never_cache
@require_GET
def prometheus(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics; with METRICS_TOKEN set, only for ``Authorization: Bearer <token>``."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse(
                "metrics need Authorization: Bearer <METRICS_TOKEN>\n", status=401, content_type="text/plain"
            )
    return HttpResponse(generate_latest(_registry), content_type=CONTENT_TYPE_LATEST)
