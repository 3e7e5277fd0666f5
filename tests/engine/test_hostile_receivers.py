"""Receivers that misbehave on purpose, on real sockets: each POST ends within its limits and the attempt
says what happened; the worker's memory stays flat."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path

import pytest

from configurations.services import configuration_create
from engine.transport import Limits, post
from history.choices import ErrorKind
from history.publishing import configuration_test_post
from tests import hostile
from tests.conftest import wait_until
from tests.engine.test_delivery import final

LIMITS = Limits(connect_timeout=1, read_timeout=1, total_timeout=3, max_response_bytes=64 * 1024)
CAP = 64 * 1024


def post_with_guard(url: str):
    """POST in a thread with an outer deadline, so a transport that never returns fails the test instead of
    hanging the suite."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        future = pool.submit(
            post, url=url, body=b'{"id":"x"}', headers={"Content-Type": "application/json"}, limits=LIMITS
        )
        result = future.result(timeout=LIMITS.total_timeout + 10)
        return result, time.monotonic() - started


# behaviour, status, error kind, truncated
CASES = [
    (hostile.hang, -1, ErrorKind.READ_TIMEOUT, False),
    (hostile.drip_headers, -1, ErrorKind.TOTAL_TIMEOUT, False),
    (hostile.drip_body, 200, ErrorKind.TOTAL_TIMEOUT, True),
    (hostile.gigabyte, 200, ErrorKind.NONE, True),
    (hostile.endless_chunks, 200, ErrorKind.NONE, True),
    (hostile.reset_mid_response, 500, ErrorKind.CONNECTION_ERROR, False),
    (hostile.not_http, -1, ErrorKind.INVALID_RESPONSE, False),
    (hostile.not_utf8, 200, ErrorKind.NONE, False),
    (hostile.redirect_loop, 302, ErrorKind.REDIRECT, False),
    # poison answers
    (hostile.nul_in_body, 200, ErrorKind.NONE, False),
    (hostile.nul_in_header, -1, ErrorKind.INVALID_RESPONSE, False),
    (hostile.nul_in_reason, 500, ErrorKind.HTTP_STATUS, False),
    (hostile.gzip_bomb, 200, ErrorKind.NONE, True),
    (hostile.headers_cut, -1, ErrorKind.INVALID_RESPONSE, False),
    (hostile.status_line_only, -1, ErrorKind.INVALID_RESPONSE, False),
    (hostile.short_body, 200, ErrorKind.INVALID_RESPONSE, False),
]


@pytest.mark.parametrize(
    ("behaviour", "status", "kind", "truncated"), CASES, ids=lambda v: getattr(v, "__name__", None)
)
def test_each_misbehaviour_ends_within_the_limit_and_is_recorded(behaviour, status, kind, truncated):
    server = hostile.HostileServer(behaviour)
    try:
        result, seconds = post_with_guard(server.url())
    finally:
        server.stop()

    assert (result.status_code, result.error_kind, result.truncated) == (status, kind, truncated), result.error_message
    # the configured limits: total 3 s; a little slack for a loaded machine
    assert seconds < LIMITS.total_timeout + 1.5
    assert result.duration_ms <= (LIMITS.total_timeout + 1.5) * 1000
    assert len(result.body) <= CAP
    assert len(server.requests) == 1, "one request, redirects are not followed and nothing is retried here"


def test_a_capped_body_keeps_exactly_the_cap():
    server = hostile.HostileServer(hostile.gigabyte)
    try:
        result, _ = post_with_guard(server.url())
    finally:
        server.stop()
    assert result.body == b"y" * CAP


def test_a_body_that_is_not_utf8_keeps_its_bytes():
    server = hostile.HostileServer(hostile.not_utf8)
    try:
        result, _ = post_with_guard(server.url())
    finally:
        server.stop()
    assert result.body == b"\xff\xfe caf\xe9 \x80"


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_worker_records_each_misbehaviour_and_its_memory_stays_flat(stack, producer):
    servers = {behaviour.__name__: hostile.HostileServer(behaviour) for behaviour, *_ in CASES}
    try:
        rss_before = _rss_kib(stack.worker.process.pid)
        notifications = {}
        for name, server in servers.items():
            configuration = configuration_create(
                owner=producer, name=name, events=["PURCHASE_APPROVED"], url=server.url()
            )
            notifications[name] = configuration_test_post(
                owner=producer, configuration=configuration, event_type="PURCHASE_APPROVED"
            )
        done = {name: final(n, timeout=60) for name, n in notifications.items()}
        rss_after = _rss_kib(stack.worker.process.pid)
    finally:
        for server in servers.values():
            server.stop()

    for behaviour, status, kind, truncated in CASES:
        attempt = done[behaviour.__name__].attempts.get()
        assert (attempt.response_status, attempt.error_kind, attempt.response_body_truncated) == (
            status,
            kind,
            truncated,
        )
        assert attempt.duration_ms <= (3 + 1.5) * 1000, behaviour.__name__
    for name, notification in done.items():
        assert notification.attempt_count == 1 and notification.attempts.count() == 1, name
    assert done["not_utf8"].attempts.get().response_body == "\\xff\\xfe caf\\xe9 \\x80"
    # What the database cannot hold is kept escaped, and the attempt says so.
    nul_body = done["nul_in_body"].attempts.get()
    assert (nul_body.response_body, nul_body.response_escaped) == ("ok\\x00", True)
    assert done["nul_in_body"].status == "delivered"
    # A NUL inside a header is not HTTP (RFC 9110 5.5): the answer is refused as invalid, saying why.
    nul_header = done["nul_in_header"].attempts.get()
    assert "Invalid HTTP header" in nul_header.error_message and "\x00" not in nul_header.error_message
    nul_reason = done["nul_in_reason"].attempts.get()
    assert "Bro\\x00ken" in nul_reason.error_message and nul_reason.response_escaped
    bomb = done["gzip_bomb"].attempts.get()
    assert bomb.response_escaped and bomb.response_body_truncated
    assert not done["not_utf8"].attempts.get().response_escaped
    assert done["headers_cut"].status == "failed", "a test post is one attempt: unknown outcome, not delivered"
    assert len(done["gigabyte"].attempts.get().response_body) == CAP
    # A gigabyte and an endless body went by: reading them whole would have grown the worker by far more.
    assert rss_after - rss_before < 50 * 1024, f"worker grew by {(rss_after - rss_before) // 1024} MiB"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_stack_settings_match_these_limits(stack):
    from tests.conftest import STACK_SETTINGS

    assert float(STACK_SETTINGS["DISPATCHER_TOTAL_TIMEOUT"]) == LIMITS.total_timeout
    assert float(STACK_SETTINGS["DISPATCHER_READ_TIMEOUT"]) == LIMITS.read_timeout
    wait_until(lambda: stack.worker.process.poll() is None, message="the worker to be running")
