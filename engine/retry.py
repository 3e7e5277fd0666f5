"""When to try again: one pure function from (failure, attempt number, settings) to a decision.

No clock, no randomness, no database: the caller passes the random factor for the jitter, so a table of
cases can test every rule (tests/dispatcher/test_retry.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.conf import DispatcherSettings
from history.choices import URL_ERROR_KINDS, URL_ERROR_STATUS_CODES, ErrorKind


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Failure:
    """What went wrong with one attempt: its error kind and HTTP status (-1 without one)."""

    kind: str
    status_code: int = -1

    @property
    def is_url_error(self) -> bool:
        """The URL itself looks wrong: the host does not resolve, refuses, fails TLS, or answers 404/410."""
        if self.kind in URL_ERROR_KINDS:
            return True
        return self.kind == ErrorKind.HTTP_STATUS and self.status_code in URL_ERROR_STATUS_CODES

    def describe(self) -> str:
        if self.kind == ErrorKind.HTTP_STATUS:
            return f"HTTP {self.status_code}"
        return ErrorKind(self.kind).label.lower()


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    schedule: tuple[float, ...]
    jitter: float
    retry_after_max: float
    disable_after: float = float("inf")  # seconds of failing with no success before a configuration is disabled

    @classmethod
    def from_settings(cls, conf: DispatcherSettings) -> RetryPolicy:
        return cls(
            conf.max_attempts, conf.retry_schedule, conf.retry_jitter, conf.retry_after_max, conf.failing_disable_after
        )

    def base_delay(self, attempt: int) -> float:
        """Seconds between attempt ``attempt`` and the next one; the schedule's last delay repeats."""
        if not self.schedule:
            return 0.0
        return self.schedule[min(attempt, len(self.schedule)) - 1]


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    delay: float | None = None  # seconds until the next attempt, when verdict is RETRY
    disable_reason: str = ""  # non-empty: disable the configuration with this reason


def decide(
    *,
    failure: Failure | None,
    attempt: int,
    policy: RetryPolicy,
    earlier_all_url_errors: bool,
    retry_after: float | None = None,
    jitter_factor: float = 0.0,
    failing_for: float | None = None,
) -> Decision:
    """Decide after automatic attempt number ``attempt`` (1-based) of a notification.

    ``earlier_all_url_errors``: every earlier automatic attempt of this notification was a URL error (true
    when there were none). ``jitter_factor`` in [-1, 1] spreads the delay by up to ``policy.jitter``.
    ``failing_for``: seconds since the configuration's first failure with no success after it (None when
    its last attempt succeeded).
    """
    if failure is None:
        return Decision(Verdict.DELIVERED)
    if failure.kind == ErrorKind.HTTP_STATUS and failure.status_code == 410:
        return Decision(
            Verdict.FAILED, disable_reason="The URL answered 410 Gone: the receiver says it no longer exists."
        )
    if failing_for is not None and failing_for >= policy.disable_after:
        return Decision(
            Verdict.FAILED,
            disable_reason=(
                f"Every delivery failed for {_duration(failing_for)} (last: {failure.describe()}), with no success. "
                "Fix the receiver, then enable the configuration."
            ),
        )
    if attempt >= policy.max_attempts:
        reason = ""
        if failure.is_url_error and earlier_all_url_errors:
            reason = (
                f"All {attempt} attempts of a notification found the URL in error "
                f"(last: {failure.describe()}). Fix the URL, then enable the configuration."
            )
        return Decision(Verdict.FAILED, disable_reason=reason)
    delay = policy.base_delay(attempt) * (1 + policy.jitter * max(-1.0, min(1.0, jitter_factor)))
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.retry_after_max))
    return Decision(Verdict.RETRY, delay=max(0.0, delay))


def _duration(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    if seconds >= 120:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} seconds"
