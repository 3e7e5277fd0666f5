"""Hostile receivers on real sockets: whatever they answer, the check ends within its bound, records every POST
in History (what no database stores, escaped) and grades every check."""

from __future__ import annotations

import socket

import pytest

from history.models import Attempt, Notification
from receiver_checks import services
from receiver_checks.choices import Grade, RunStatus
from tests import hostile
from tests.factories import ConfigurationFactory

pytestmark = pytest.mark.django_db


def nul_bytes(conn: socket.socket, server: hostile.HostileServer) -> None:
    """A 200 whose body carries NUL bytes."""
    body = b"ok\x00\x00!"
    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
    conn.sendall(head + body)


CASES = [
    (hostile.hang, Grade.FAIL, "read_timeout"),
    (hostile.drip_headers, Grade.FAIL, "total_timeout"),
    (hostile.not_http, Grade.FAIL, "invalid_response"),
    (hostile.reset_mid_response, Grade.FAIL, "connection_error"),
    (hostile.gigabyte, Grade.PASS, ""),  # a 2xx whose body is cut at the cap is still a 2xx
    (nul_bytes, Grade.PASS, ""),
    (hostile.nul_in_header, Grade.FAIL, "invalid_response"),  # not HTTP (RFC 9110, 5.5): refused as such
]


@pytest.mark.parametrize(("behaviour", "grade", "kind"), CASES, ids=lambda v: getattr(v, "__name__", None))
def test_a_hostile_receiver_cannot_stop_the_check_or_its_record(producer, settings, behaviour, grade, kind):
    settings.DISPATCHER = {**settings.DISPATCHER, "CONNECT_TIMEOUT": 1, "READ_TIMEOUT": 1, "TOTAL_TIMEOUT": 2}
    server = hostile.HostileServer(behaviour)
    try:
        configuration = ConfigurationFactory(owner=producer, url=server.url(), events=["PURCHASE_APPROVED"])
        run, _ = services.receiver_check_start(owner=producer, configuration=configuration, enqueue=False)
        services.receiver_check_run(check_id=run.pk)
    finally:
        server.stop()

    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    results = {r.key: r for r in run.results.all()}
    assert Grade.PENDING not in {r.grade for r in results.values()}
    approved = results["event:PURCHASE_APPROVED"]
    assert approved.grade == grade
    assert [a["error_kind"] for a in approved.answers] == [kind]
    notifications = Notification.objects.filter(configuration=configuration)
    attempts = Attempt.objects.filter(notification__in=notifications)
    # Every POST of the plan is recorded: 8 notifications (one event, so no unknown purchase), the repeat twice.
    assert notifications.count() == 8
    assert attempts.count() == sum(n.attempt_count for n in notifications) == 9
    for attempt in attempts:
        assert "\x00" not in attempt.response_body and "\x00" not in str(attempt.response_headers)
    if behaviour is nul_bytes:
        first = attempts.first()
        assert first.response_body == "ok\\x00\\x00!" and first.response_escaped
