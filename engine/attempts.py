"""One attempt, before and after its POST: what to send, and what the answer leads to.

Plain functions of the claimed row, the transport's result and the settings: no database, no network, no
clock of their own. ``prepare`` builds the request (headers, hottok, signature); ``conclude`` decides with the
retry policy and describes the record to save; ``interrupted`` describes the attempt a dead worker left behind.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from core import hotmart
from core.secrets import mask_answer, masked_headers
from engine import retry, transport
from engine.conf import DispatcherSettings
from history.choices import AttemptTrigger, ErrorKind, NotificationStatus
from history.claims import Claimed, Record
from history.lanes import lane_for
from history.services import AttemptData, Transition, attempt_interrupted

STATUS = {
    retry.Verdict.DELIVERED: NotificationStatus.DELIVERED,
    retry.Verdict.RETRY: NotificationStatus.RETRYING,
    retry.Verdict.FAILED: NotificationStatus.FAILED,
}


@dataclass
class Send:
    """A claimed notification's next POST, ready to go."""

    claimed: Claimed
    number: int
    url: str
    body: bytes
    headers: dict[str, str]
    host: str  # scheme://name:port: the fair share per host
    task_id: str = ""

    @property
    def configuration_id(self) -> int:
        return self.claimed.configuration_id

    @property
    def manual(self) -> bool:
        return self.claimed.manual


@dataclass
class Outcome:
    """What an attempt led to: the record to save, and what follows once it is saved."""

    send: Send
    result: transport.TransportResult
    record: Record
    verdict: str  # delivered, retry or failed; manual-... for a manual resend
    disable_reason: str = ""
    health: bool | None = None  # the configuration's health as this attempt shows it; None: it says nothing
    latency: float | None = None  # notification saved -> this first delivery, seconds
    retry_in: float | None = None  # seconds until the next automatic attempt
    lane: str = ""


def host_of(url: str) -> str:
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    except ValueError:
        return url


def prepare(claimed: Claimed, *, signing_secrets: list[str], task_id: str = "") -> Send:
    """The POST of the notification's next attempt: its number, the exact bytes and the Hotmart headers."""
    number = claimed.attempt_count + 1
    headers = _hotmart_headers(claimed, number)
    body = claimed.payload.encode("utf-8")
    if claimed.configuration.signing_enabled and signing_secrets:
        headers |= hotmart.sign(
            secrets=signing_secrets, message_id=str(claimed.event_uuid), timestamp=int(time.time()), body=body
        )
    url = claimed.configuration.url
    return Send(claimed, number, url, body, headers, host_of(url), task_id)


def _hotmart_headers(claimed: Claimed, number: int) -> dict[str, str]:
    return hotmart.build_headers(
        hottok=claimed.hottok,
        content_type=claimed.content_type,
        delivery_id=claimed.pk,
        attempt=number,
        event_id=str(claimed.event_uuid),
    )


def conclude(send: Send, result: transport.TransportResult, *, conf: DispatcherSettings, now: datetime,
             jitter: float) -> Outcome:  # fmt: skip
    """Decide what the answer leads to, and describe the record that says so.

    A manual resend is one attempt: success delivers, failure leaves the status and schedule as they were. A
    test post is one attempt and never disables anything. An automatic attempt follows the retry policy.
    Manual resends and test posts say nothing about the configuration's health, unless they succeed.
    """
    claimed = send.claimed
    attempt = _attempt_data(send, result)
    if send.manual:
        delivered = result.succeeded
        record = Record(
            claimed.pk,
            claimed.lock_token,
            attempt,
            Transition(NotificationStatus.DELIVERED) if delivered else None,
        )
        verdict = retry.Verdict.DELIVERED if delivered else retry.Verdict.FAILED
        return Outcome(
            send, result, record, f"manual-{verdict.value}", health=True if delivered else None,
            latency=_latency(claimed, now) if delivered and claimed.status != NotificationStatus.DELIVERED else None,
        )  # fmt: skip
    decision = _decide(claimed, result, conf=conf, now=now, jitter=jitter)
    next_attempt_at = now + timedelta(seconds=decision.delay) if decision.verdict == retry.Verdict.RETRY else None
    reason = decision.disable_reason
    if not reason and decision.verdict == retry.Verdict.FAILED:
        reason = result.error_message or f"HTTP {result.status_code}"
    lane = None
    if decision.verdict == retry.Verdict.RETRY:
        lane = lane_for(failing=True, retry=True, owner_id=claimed.owner_id)
    record = Record(
        claimed.pk, claimed.lock_token, attempt, Transition(STATUS[decision.verdict], next_attempt_at, reason), lane
    )
    health = result.succeeded or (None if claimed.is_test else False)
    return Outcome(
        send,
        result,
        record,
        decision.verdict.value,
        disable_reason=decision.disable_reason,
        health=health,
        latency=_latency(claimed, now) if result.succeeded else None,
        retry_in=decision.delay if decision.verdict == retry.Verdict.RETRY else None,
        lane=lane or claimed.lane,
    )


def _latency(claimed: Claimed, now: datetime) -> float:
    return (now - claimed.created_at).total_seconds()


def _decide(claimed: Claimed, result: transport.TransportResult, *, conf: DispatcherSettings, now: datetime,
            jitter: float) -> retry.Decision:  # fmt: skip
    failure = None
    if not result.succeeded:
        failure = retry.Failure(result.error_kind or ErrorKind.HTTP_STATUS, result.status_code)
    policy = retry.RetryPolicy.from_settings(conf)
    if claimed.is_test:
        # A test post is one attempt, like Hotmart's "send test" button, and never disables anything.
        decision = retry.decide(
            failure=failure, attempt=1, policy=replace(policy, max_attempts=1), earlier_all_url_errors=False
        )
        return replace(decision, disable_reason="")
    failing_since = claimed.configuration.failing_since
    return retry.decide(
        failure=failure,
        attempt=claimed.automatic_attempt_count + 1,
        policy=policy,
        earlier_all_url_errors=claimed.url_errors_only,
        retry_after=result.retry_after,
        jitter_factor=jitter,
        failing_for=(now - failing_since).total_seconds() if failing_since else None,
    )


def _attempt_data(send: Send, result: transport.TransportResult) -> AttemptData:
    # A receiver that echoes the request (httpbin-like) gets its hottok kept masked, like the request's own.
    answer_headers, answer_body = mask_answer(
        result.headers, result.body.decode("utf-8", errors="backslashreplace"), sent=send.headers
    )
    return AttemptData(
        number=send.number,
        trigger=AttemptTrigger.MANUAL if send.manual else AttemptTrigger.AUTOMATIC,
        started_at=result.started_at,
        duration_ms=result.duration_ms,
        request_url=send.url,
        request_headers=masked_headers(send.headers),
        request_body_sha256=hashlib.sha256(send.body).hexdigest(),
        response_status=result.status_code,
        response_headers=answer_headers,
        response_body=answer_body,
        response_body_truncated=result.truncated,
        error_kind=result.error_kind,
        error_message=result.error_message,
        task_id=send.task_id,
    )


def interrupted(
    claimed: Claimed, *, conf: DispatcherSettings, now: datetime, task_id: str = ""
) -> tuple[Record, Claimed | None]:
    """The claim took over from a worker that died mid-attempt: the record of that attempt, as interrupted with
    its outcome unknown, so that it counts (however often workers die, a notification goes out at most as many
    automatic times as its attempts allow); and the claim as it stands after it, when an attempt is still to
    be made now (None: a manual resend, which that attempt was, or no attempts left).
    """
    manual = claimed.manual
    number = claimed.attempt_count + 1
    headers = _hotmart_headers(claimed, number)
    attempt = attempt_interrupted(
        number=number,
        manual=manual,
        started_at=claimed.interrupted_at,
        request_url=claimed.configuration.url if claimed.configuration else "",
        payload=claimed.payload,
        request_headers=masked_headers(headers),
        task_id=task_id,
    )
    if manual:
        # The manual resend was that attempt; an automatic one still due is claimed afresh.
        return Record(claimed.pk, claimed.lock_token, attempt, None, release=True), None
    policy = retry.RetryPolicy.from_settings(conf)
    if claimed.is_test:
        policy = replace(policy, max_attempts=1)  # a test post is one attempt
    decision = retry.decide(
        failure=retry.Failure(ErrorKind.INTERRUPTED),
        attempt=claimed.automatic_attempt_count + 1,
        policy=policy,
        earlier_all_url_errors=False,
    )
    if decision.verdict != retry.Verdict.RETRY:
        transition = Transition(STATUS[decision.verdict], None, f"Attempt {number} was interrupted; no attempts left.")
        return Record(claimed.pk, claimed.lock_token, attempt, transition, release=True), None
    # The lease that ran out was the wait: the next attempt goes now, under this claim.
    transition = Transition(NotificationStatus.RETRYING, now)
    record = Record(claimed.pk, claimed.lock_token, attempt, transition, release=False)
    after = replace(
        claimed,
        status=NotificationStatus.RETRYING,
        attempt_count=number,
        automatic_attempt_count=claimed.automatic_attempt_count + 1,
        interrupted_at=None,
        url_errors_only=False,
    )
    return record, after
