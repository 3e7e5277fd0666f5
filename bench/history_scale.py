"""History at scale: seed a million notifications and three million attempts with COPY, then time the
History page and the API list (server time, measured around Django's own request handling)."""

from __future__ import annotations

import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from core.queues import DELIVERIES

STATUSES = ["delivered"] * 90 + ["failed"] * 6 + ["retrying"] * 2 + ["cancelled"] * 2
EVENTS = ["PURCHASE_APPROVED", "PURCHASE_COMPLETE", "PURCHASE_REFUNDED", "PURCHASE_CANCELED", "CLUB_FIRST_ACCESS"]


def seed(user, notifications: int, attempts_per_notification: int = 3, configurations: int = 20) -> dict:
    """COPY ``notifications`` events and notifications (and 3x attempts) spread over the last 60 days."""
    from django.db import connection

    from configurations.models import Configuration
    from configurations.services import configuration_create

    configs = list(Configuration.objects.filter(owner=user)) or []
    for index in range(len(configs), configurations):
        configs.append(
            configuration_create(
                owner=user, name=f"history {index}", events=["PURCHASE_APPROVED"], url=f"https://example.com/h/{index}"
            )
        )
    rng = random.Random(7)
    now = datetime.now(UTC)
    span = 60 * 86400
    raw = connection.connection  # psycopg 3 connection under Django's wrapper
    started = time.monotonic()
    with connection.cursor():
        pass
    with raw.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM history_event")
        first_event = cursor.fetchone()[0] + 1
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM history_notification")
        first_notification = cursor.fetchone()[0] + 1
        with cursor.copy(
            "COPY history_event (id, uuid, owner_id, event_type, occurred_at, transaction, buyer_email, facts,"
            " created_at) FROM STDIN"
        ) as copy:
            for n in range(notifications):
                moment = now - timedelta(seconds=span * (1 - n / notifications))
                copy.write_row(
                    (
                        first_event + n,
                        uuid.uuid4(),
                        user.pk,
                        EVENTS[n % len(EVENTS)],
                        moment,
                        f"HP{n:014d}",
                        f"buyer{n}@example.com",
                        "{}",
                        moment,
                    )
                )
        with cursor.copy(
            "COPY history_notification (id, event_id, configuration_id, owner_id, event_type, is_test, payload,"
            " content_type, status, status_reason, attempt_count, automatic_attempt_count, last_status_code,"
            " last_attempt_at, created_at, updated_at, lane, target_url) FROM STDIN"
        ) as copy:
            for n in range(notifications):
                moment = now - timedelta(seconds=span * (1 - n / notifications))
                status = STATUSES[rng.randrange(len(STATUSES))]
                code = 200 if status == "delivered" else rng.choice([500, 503, -1, 404])
                copy.write_row(
                    (
                        first_notification + n,
                        first_event + n,
                        configs[n % len(configs)].pk,
                        user.pk,
                        EVENTS[n % len(EVENTS)],
                        False,
                        '{"id":"seeded"}',
                        "application/json",
                        status,
                        "",
                        attempts_per_notification,
                        attempts_per_notification,
                        code,
                        moment,
                        moment,
                        moment,
                        DELIVERIES,
                        "",
                    )
                )
        with cursor.copy(
            "COPY history_attempt (notification_id, number, trigger, started_at, duration_ms, request_url,"
            " request_headers, request_body_sha256, response_status, response_headers, response_body,"
            " response_body_truncated, error_kind, error_message, task_id, response_escaped) FROM STDIN"
        ) as copy:
            for n in range(notifications):
                moment = now - timedelta(seconds=span * (1 - n / notifications))
                for number in range(1, attempts_per_notification + 1):
                    copy.write_row(
                        (
                            first_notification + n,
                            number,
                            "automatic",
                            moment,
                            40,
                            "https://example.com/h",
                            "{}",
                            "0" * 64,
                            200 if number == attempts_per_notification else 500,
                            "{}",
                            "ok",
                            False,
                            "" if number == attempts_per_notification else "http_status",
                            "",
                            "",
                            False,
                        )
                    )
        for table in ("history_event", "history_notification", "history_attempt"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            cursor.execute(f"ANALYZE {table}")
    raw.commit()
    return {
        "seconds": time.monotonic() - started,
        "notifications": notifications,
        "attempts": notifications * attempts_per_notification,
        "middle_notification": first_notification + notifications // 2,
    }


def time_requests(client, url: str, repeat: int = 30) -> dict:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    timings.sort()
    return {"p50_ms": statistics.median(timings), "p95_ms": timings[int(len(timings) * 0.95) - 1], "url": url}


def history_at_scale(user, notifications: int) -> dict:
    from django.test import Client

    from history.models import Notification
    from history.selectors import encode_cursor

    seeded = seed(user, notifications)
    middle = Notification.objects.get(pk=seeded["middle_notification"])
    deep = encode_cursor(middle)
    client = Client(HTTP_HOST="127.0.0.1")  # a host the sandbox allows, as a browser on this machine sends
    client.force_login(user)
    timings = {}
    for name, url in history_urls(deep, middle).items():
        timings[name] = time_requests(client, url) | plans(client, url)
    return {"seed": seeded, "timings": timings}


HISTORY_TABLES = ("history_event", "history_notification", "history_attempt")


def plans(client, url: str) -> dict:
    """How many queries the page runs; which of them PostgreSQL answers by reading a whole history table (a
    sequential scan in its plan); and how many rows its plans read only to throw away (``Rows Removed by
    Filter``: an index walked to get somewhere instead of starting there)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    whole_table, thrown_away = [], 0
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN ANALYZE " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        whole_table += [
            f"{t}: {sql[:120]}" for t in HISTORY_TABLES if any(f"Seq Scan on {t} " in line for line in plan)
        ]
        thrown_away += sum(int(line.rsplit(":", 1)[1]) for line in plan if "Rows Removed by Filter" in line)
    return {
        "queries": len(captured.captured_queries),
        "whole_table_scans": whole_table,
        "rows_thrown_away": thrown_away,
    }


def history_urls(deep_cursor: str, middle) -> dict[str, str]:
    """The pages timed; their paths are the dashboard's and the API's."""
    from django.urls import reverse

    history = reverse("history:list")
    api = reverse("notification-list")
    return {
        "History page, first page": history,
        "History page, filtered (failed)": f"{history}?status=failed",
        "History page, search by e-mail": f"{history}?q={middle.event.buyer_email}",
        "History page, deep page (cursor at 500,000)": f"{history}?cursor={deep_cursor}",
        "API list, first page": api,
        "API list, filtered (failed)": f"{api}?status=failed",
        "API list, deep page": f"{api}?page_token={deep_cursor}",
    }
