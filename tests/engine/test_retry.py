"""The retry policy, case by case: (failure, attempt, history) -> delivered / retry after N s / failed (+ disable)."""

import pytest

from engine.retry import Failure, RetryPolicy, Verdict, decide
from history.choices import ErrorKind

POLICY = RetryPolicy(max_attempts=5, schedule=(2, 4, 8, 16), jitter=0.1, retry_after_max=60)
PRODUCTION = RetryPolicy(max_attempts=5, schedule=(900, 1800, 3600, 7200), jitter=0.1, retry_after_max=86400)

HTTP_500 = Failure(ErrorKind.HTTP_STATUS, 500)
HTTP_404 = Failure(ErrorKind.HTTP_STATUS, 404)
HTTP_410 = Failure(ErrorKind.HTTP_STATUS, 410)
HTTP_429 = Failure(ErrorKind.HTTP_STATUS, 429)
REFUSED = Failure(ErrorKind.CONNECTION_REFUSED)
DNS = Failure(ErrorKind.DNS)
TLS = Failure(ErrorKind.TLS)
READ_TIMEOUT = Failure(ErrorKind.READ_TIMEOUT)
REDIRECT = Failure(ErrorKind.REDIRECT, 302)


@pytest.mark.parametrize(
    ("failure", "attempt", "earlier_url_errors", "retry_after", "jitter", "verdict", "delay", "disables"),
    [
        # success, whatever came before
        (None, 1, True, None, 0, Verdict.DELIVERED, None, False),
        (None, 5, False, None, 0, Verdict.DELIVERED, None, False),
        # the sandbox schedule: 2, 4, 8, 16 s before attempts 2..5
        (HTTP_500, 1, True, None, 0, Verdict.RETRY, 2, False),
        (HTTP_500, 2, False, None, 0, Verdict.RETRY, 4, False),
        (HTTP_500, 3, False, None, 0, Verdict.RETRY, 8, False),
        (HTTP_500, 4, False, None, 0, Verdict.RETRY, 16, False),
        # every kind of failure is retried
        (READ_TIMEOUT, 1, True, None, 0, Verdict.RETRY, 2, False),
        (REDIRECT, 1, True, None, 0, Verdict.RETRY, 2, False),
        (REFUSED, 1, True, None, 0, Verdict.RETRY, 2, False),
        (HTTP_404, 2, True, None, 0, Verdict.RETRY, 4, False),
        # jitter spreads the delay by at most 10%
        (HTTP_500, 1, True, None, 1, Verdict.RETRY, 2.2, False),
        (HTTP_500, 1, True, None, -1, Verdict.RETRY, 1.8, False),
        (HTTP_500, 4, True, None, 0.5, Verdict.RETRY, 16.8, False),
        # the fifth attempt is the last
        (HTTP_500, 5, False, None, 0, Verdict.FAILED, None, False),
        (READ_TIMEOUT, 5, True, None, 0, Verdict.FAILED, None, False),
        # URL errors on every attempt disable the configuration
        (REFUSED, 5, True, None, 0, Verdict.FAILED, None, True),
        (DNS, 5, True, None, 0, Verdict.FAILED, None, True),
        (TLS, 5, True, None, 0, Verdict.FAILED, None, True),
        (HTTP_404, 5, True, None, 0, Verdict.FAILED, None, True),
        # ... but not when an earlier attempt got somewhere, nor when the last one was not a URL error
        (REFUSED, 5, False, None, 0, Verdict.FAILED, None, False),
        (HTTP_500, 5, True, None, 0, Verdict.FAILED, None, False),
        # 410 Gone disables at once
        (HTTP_410, 1, True, None, 0, Verdict.FAILED, None, True),
        (HTTP_410, 3, False, None, 0, Verdict.FAILED, None, True),
        # Retry-After can lengthen a delay, never shorten it, and is capped
        (HTTP_429, 1, True, 30, 0, Verdict.RETRY, 30, False),
        (HTTP_429, 4, True, 3, 0, Verdict.RETRY, 16, False),
        (HTTP_429, 1, True, 3600, 0, Verdict.RETRY, 60, False),
    ],
)
def test_decide(failure, attempt, earlier_url_errors, retry_after, jitter, verdict, delay, disables):
    decision = decide(
        failure=failure,
        attempt=attempt,
        policy=POLICY,
        earlier_all_url_errors=earlier_url_errors,
        retry_after=retry_after,
        jitter_factor=jitter,
    )
    assert decision.verdict == verdict
    assert decision.delay == (pytest.approx(delay) if delay is not None else None)
    assert bool(decision.disable_reason) == disables


def test_production_schedule_is_fifteen_minutes_doubling():
    delays = [
        decide(failure=HTTP_500, attempt=n, policy=PRODUCTION, earlier_all_url_errors=False).delay for n in (1, 2, 3, 4)
    ]
    assert delays == [900, 1800, 3600, 7200]


def test_the_last_delay_of_a_short_schedule_repeats():
    policy = RetryPolicy(max_attempts=8, schedule=(1, 5), jitter=0, retry_after_max=60)
    delays = [
        decide(failure=HTTP_500, attempt=n, policy=policy, earlier_all_url_errors=False).delay for n in range(1, 8)
    ]
    assert delays == [1, 5, 5, 5, 5, 5, 5]


def test_disable_reason_names_the_failure():
    decision = decide(failure=REFUSED, attempt=5, policy=POLICY, earlier_all_url_errors=True)
    assert "connection refused" in decision.disable_reason
    assert "All 5 attempts" in decision.disable_reason
    gone = decide(failure=HTTP_410, attempt=1, policy=POLICY, earlier_all_url_errors=True)
    assert "410 Gone" in gone.disable_reason


def test_jitter_factor_outside_its_range_is_clamped():
    decision = decide(failure=HTTP_500, attempt=1, policy=POLICY, earlier_all_url_errors=False, jitter_factor=7)
    assert decision.delay == pytest.approx(2.2)


HYSTERESIS = RetryPolicy(max_attempts=5, schedule=(2, 4, 8, 16), jitter=0, retry_after_max=60, disable_after=86400)


@pytest.mark.parametrize(
    ("failure", "failing_for", "verdict", "disables"),
    [
        (HTTP_500, None, Verdict.RETRY, False),  # the first failure starts the clock
        (HTTP_500, 3600, Verdict.RETRY, False),  # failing for an hour: not yet
        (HTTP_500, 86399, Verdict.RETRY, False),
        (HTTP_500, 86400, Verdict.FAILED, True),  # a day of failures with no success
        (READ_TIMEOUT, 5 * 86400, Verdict.FAILED, True),
        (None, 5 * 86400, Verdict.DELIVERED, False),  # a success ends it whatever came before
    ],
)
def test_a_configuration_failing_for_too_long_is_disabled(failure, failing_for, verdict, disables):
    decision = decide(
        failure=failure, attempt=1, policy=HYSTERESIS, earlier_all_url_errors=False, failing_for=failing_for
    )
    assert decision.verdict == verdict
    assert bool(decision.disable_reason) == disables
    if disables:
        assert "with no success" in decision.disable_reason
