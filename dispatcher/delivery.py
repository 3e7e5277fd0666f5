"""The delivery engine: send one notification's next attempt, sweep what is due, purge what is old.

Flow of an attempt, top to bottom in ``notification_deliver``: claim the row (a lease, so nobody else sends
it), check the configuration, POST, decide with the retry policy, then save the attempt with the status it
leads to (and disable the configuration when the rules say so) in one transaction.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

import structlog
from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from django.utils import timezone

from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from dispatcher import metrics, retry, transport
from dispatcher.conf import DispatcherSettings, dispatcher_settings
from dispatcher.gate import Gate
from dispatcher.queue import DELIVERIES, bulk_resends_enqueue, deliveries_enqueue, lane_for
from dispatcher.services import configuration_gone, configuration_stop
from history import selectors as history_selectors
from history import services as history_services
from history.choices import NO_STATUS, OPEN_STATUSES, AttemptTrigger, BulkResendStatus, ErrorKind, NotificationStatus
from history.models import BulkResend

log = structlog.get_logger(__name__)
T = TypeVar("T")

_rng = random.SystemRandom()


def notification_deliver(*, notification_id: int, task_id: str = "", lane: str | None = None) -> str:
    """Make the notification's next attempt if there is one to make; answers what happened.

    An automatic attempt when it is open and due; a manual one when its owner asked for a resend. Manual
    resends and test posts go out even while the configuration is disabled: the owner asked for them.
    """
    conf = dispatcher_settings()
    notification = _db_retrying(
        lambda: history_services.notification_claim(
            notification_id=notification_id, now=timezone.now(), lease_seconds=conf.lease_seconds
        )
    )
    if notification is None:
        return "skipped"  # nothing to send, or another worker is sending it
    if notification.interrupted_at is not None:
        notification = _record_interrupted(notification, conf=conf, task_id=task_id)
        if notification is None:
            return "interrupted"
    manual = notification.resend_requested_at is not None
    configuration = notification.configuration
    if configuration is None or not (configuration.is_active or manual or notification.is_test):
        reason = "Configuration removed." if configuration is None else "Configuration disabled."
        history_services.notification_cancel(notification_id=notification.pk, reason=reason)
        log.info("cancelled", notification=notification.pk, reason=reason)
        return "cancelled"
    target = lane_for(failing=configuration.failing_since is not None, owner_id=notification.owner_id)
    if lane == DELIVERIES and target != DELIVERIES:
        # The receiver is failing (or its tenant has a queue of its own): leave this lane to the healthy ones.
        history_services.notification_release(notification_id=notification.pk, lock_token=notification.lock_token)
        history_services.notifications_mark_enqueued(notification_ids=[notification.pk], at=timezone.now())
        deliveries_enqueue([notification.pk], lane=target)
        return "rerouted"

    number = notification.attempt_count + 1
    headers = transport.build_headers(
        hottok=notification.hottok,
        content_type=notification.content_type,
        delivery_id=notification.pk,
        attempt=number,
        event_id=str(notification.event_uuid),
    )
    body = notification.payload.encode("utf-8")
    if configuration.signing_enabled:
        secrets = configuration_selectors.signing_secrets_active(configuration_id=configuration.pk, now=timezone.now())
        if secrets:
            headers |= transport.sign(
                secrets=secrets, message_id=str(notification.event_uuid), timestamp=int(time.time()), body=body
            )
    result = transport.post(url=configuration.url, body=body, headers=headers, limits=_limits(conf))

    attempt = history_services.AttemptData(
        number=number,
        trigger=AttemptTrigger.MANUAL if manual else AttemptTrigger.AUTOMATIC,
        started_at=result.started_at,
        duration_ms=result.duration_ms,
        request_url=configuration.url,
        request_headers=transport.masked_headers(headers),
        request_body_sha256=hashlib.sha256(body).hexdigest(),
        response_status=result.status_code,
        response_headers=result.headers,
        response_body=result.body.decode("utf-8", errors="backslashreplace"),
        response_body_truncated=result.truncated,
        error_kind=result.error_kind,
        error_message=result.error_message,
        task_id=task_id,
    )
    now = timezone.now()
    if manual:
        # A manual resend is one attempt: success delivers, failure leaves the status and schedule as they were.
        decision = retry.Decision(retry.Verdict.DELIVERED if result.succeeded else retry.Verdict.FAILED)
        transition = history_services.Transition(NotificationStatus.DELIVERED) if result.succeeded else None
    else:
        decision = _decide(notification=notification, result=result, conf=conf, now=now)
        next_attempt_at = now + timedelta(seconds=decision.delay) if decision.verdict == retry.Verdict.RETRY else None
        reason = decision.disable_reason
        if not reason and decision.verdict == retry.Verdict.FAILED:
            reason = result.error_message or f"HTTP {result.status_code}"
        transition = history_services.Transition(_STATUS[decision.verdict], next_attempt_at, reason)
    counts_for_health = result.succeeded or not (manual or notification.is_test)
    outcome = result.succeeded if counts_for_health else None
    if not _db_retrying(lambda: _save(notification, attempt, transition, decision.disable_reason, outcome, now)):
        log.warning("attempt_dropped_lease_lost", notification=notification.pk, attempt=number)
        return "lease-lost"
    first_delivery = result.succeeded and notification.status != NotificationStatus.DELIVERED
    metrics.record_attempt(
        outcome="manual" if manual else decision.verdict.value,
        status_code=result.status_code,
        duration=result.duration_ms / 1000,
        latency=(now - notification.created_at).total_seconds() if first_delivery else None,
    )
    log.info(
        "attempt",
        notification=notification.pk,
        configuration=configuration.pk,
        attempt=number,
        trigger=attempt.trigger,
        status=result.status_code,
        error=result.error_kind or None,
        ms=result.duration_ms,
        verdict=decision.verdict.value,
    )
    if transition is not None and transition.next_attempt_at is not None and decision.delay <= conf.countdown_max:
        # Short delays ride a Celery countdown for punctuality; the sweep stays the safety net.
        retry_lane = lane_for(failing=True, retry=True, owner_id=notification.owner_id)
        if deliveries_enqueue([notification.pk], countdown=decision.delay, lane=retry_lane):
            history_services.notifications_mark_enqueued(
                notification_ids=[notification.pk], at=transition.next_attempt_at
            )
    return f"manual-{decision.verdict.value}" if manual else decision.verdict.value


def _record_interrupted(notification, *, conf: DispatcherSettings, task_id: str):
    """The claim took over from a worker that died mid-attempt: record that attempt first, as interrupted with
    its outcome unknown, so that it counts (however often workers die, a notification goes out at most as
    many automatic times as the attempts allow). Answers the notification still claimed when there is an
    attempt left to make now, else None (its claim released)."""
    manual = notification.resend_requested_at is not None
    configuration = notification.configuration
    number = notification.attempt_count + 1
    url = configuration.url if configuration is not None else ""
    headers = transport.build_headers(
        hottok=notification.hottok,
        content_type=notification.content_type,
        delivery_id=notification.pk,
        attempt=number,
        event_id=str(notification.event_uuid),
    )
    now = timezone.now()
    attempt = history_services.AttemptData(
        number=number,
        trigger=AttemptTrigger.MANUAL if manual else AttemptTrigger.AUTOMATIC,
        started_at=notification.interrupted_at,
        duration_ms=0,
        request_url=url,
        request_headers=transport.masked_headers(headers),
        request_body_sha256=hashlib.sha256(notification.payload.encode("utf-8")).hexdigest(),
        response_status=NO_STATUS,
        response_headers={},
        response_body="",
        response_body_truncated=False,
        error_kind=ErrorKind.INTERRUPTED,
        error_message=history_services.INTERRUPTED_MESSAGE,
        task_id=task_id,
    )
    transition = None
    if not manual:  # an automatic claim is made only of an open notification
        policy = retry.RetryPolicy.from_settings(conf)
        if notification.is_test:
            policy = replace(policy, max_attempts=1)  # a test post is one attempt
        decision = retry.decide(
            failure=retry.Failure(ErrorKind.INTERRUPTED),
            attempt=notification.automatic_attempt_count + 1,
            policy=policy,
            earlier_all_url_errors=False,
        )
        # The lease that ran out was the wait: when attempts are left, the next one goes now.
        transition = history_services.Transition(
            _STATUS[decision.verdict],
            now if decision.verdict == retry.Verdict.RETRY else None,
            "" if decision.verdict == retry.Verdict.RETRY else f"Attempt {number} was interrupted; no attempts left.",
        )
    saved = _db_retrying(
        lambda: history_services.attempt_record(
            notification=notification,
            lock_token=notification.lock_token,
            attempt=attempt,
            transition=transition,
            now=now,
            release=False,
        )
    )
    log.warning("attempt_interrupted", notification=notification.pk, attempt=number, trigger=attempt.trigger)
    if saved is None:
        return None  # the claim was lost meanwhile: whoever holds it now carries on
    if manual or transition.status not in OPEN_STATUSES:
        # The manual resend was that attempt (an automatic one still due is claimed afresh), or none is left.
        history_services.notification_release(notification_id=notification.pk, lock_token=notification.lock_token)
        return None
    return replace(
        notification,
        status=transition.status,
        attempt_count=number,
        automatic_attempt_count=notification.automatic_attempt_count + 1,
        interrupted_at=None,
    )


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _batch_executor(conf: DispatcherSettings) -> ThreadPoolExecutor:
    """The worker process's threads for a message's notifications (each keeps its own HTTP keep-alive and
    database connections)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=conf.batch_concurrency, thread_name_prefix="delivery")
        return _executor


def notifications_deliver(*, notification_ids: list[int], task_id: str = "", lane: str | None = None) -> str:
    """Deliver a message's notifications side by side, each exactly as ``notification_deliver`` does.

    Side by side, so that one slow receiver in the batch holds up none of the others; one message for many
    notifications, so that the broker and Celery cost is paid once. In the deliveries lane each configuration
    gets a fair share of the threads (``dispatcher.gate``): a slow one's next notifications go to the retries
    lane instead of taking them all. Answers how many ended each way.
    """
    conf = dispatcher_settings()
    if len(notification_ids) == 1:
        return notification_deliver(notification_id=notification_ids[0], task_id=task_id, lane=lane)
    executor = _batch_executor(conf)
    outcomes: dict[str, int] = {}
    futures = []
    recipients: dict[int, tuple[int | None, int]] = {}
    if lane == DELIVERIES:
        recipients = _db_retrying(lambda: history_selectors.notifications_recipients(notification_ids=notification_ids))
    gate = _batch_gate(conf)

    def submit(notification_id: int, configuration_id: int | None) -> None:
        if configuration_id is None:  # another lane, or nothing to share out
            futures.append(
                executor.submit(notification_deliver, notification_id=notification_id, task_id=task_id, lane=lane)
            )
            return
        try:
            futures.append(executor.submit(_gated_deliver, gate, configuration_id, notification_id, task_id, lane))
        except BaseException:
            gate.finish(configuration_id, None)  # never ran: its place is free again
            raise

    waiting: list[int] = []
    for notification_id in notification_ids:  # first whatever can go at once, so nothing waits behind a wait
        configuration_id = recipients.get(notification_id, (None, None))[0]
        if configuration_id is None or gate.admit(configuration_id):
            submit(notification_id, configuration_id)
        else:
            waiting.append(notification_id)
    slow: list[int] = []
    deadline = time.monotonic() + conf.connect_timeout + conf.total_timeout  # one for the whole message
    for notification_id in waiting:
        configuration_id = recipients[notification_id][0]
        if gate.admit(configuration_id, give_up_after=max(0.0, deadline - time.monotonic())):
            submit(notification_id, configuration_id)
        else:
            slow.append(notification_id)
    if slow:
        # Not claimed, not attempted: the retries lane (or the owner's own queue) takes them as they are.
        history_services.notifications_mark_enqueued(notification_ids=slow, at=timezone.now())
        lanes: dict[str, list[int]] = {}
        for notification_id in slow:
            lanes.setdefault(lane_for(failing=True, owner_id=recipients[notification_id][1]), []).append(
                notification_id
            )
        for target, ids in lanes.items():
            deliveries_enqueue(ids, lane=target)
        outcomes["rerouted"] = len(slow)
        log.info("rerouted_slow", notifications=slow)
    for future in futures:
        try:
            outcome = future.result()
        except Exception:  # noqa: BLE001 - one notification's trouble must not hide the others' outcomes
            log.exception("delivery_failed_will_sweep")
            outcome = "error"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))


_gate: Gate | None = None


def _batch_gate(conf: DispatcherSettings) -> Gate:
    """The worker process's fair shares of its delivery threads: a quarter of them at most per configuration."""
    global _gate
    with _executor_lock:
        if _gate is None:
            _gate = Gate(cap=conf.batch_concurrency // 4, slow_after=conf.slow_after)
        return _gate


def _gated_deliver(gate: Gate, configuration_id: int, notification_id: int, task_id: str, lane: str | None) -> str:
    token = object()
    gate.start(configuration_id, token)
    try:
        return notification_deliver(notification_id=notification_id, task_id=task_id, lane=lane)
    finally:
        gate.finish(configuration_id, token)


def _decide(
    *, notification, result: transport.TransportResult, conf: DispatcherSettings, now: datetime
) -> retry.Decision:
    automatic_number = notification.automatic_attempt_count + 1
    failure = None
    if not result.succeeded:
        failure = retry.Failure(result.error_kind or ErrorKind.HTTP_STATUS, result.status_code)
    policy = retry.RetryPolicy.from_settings(conf)
    if notification.is_test:
        # A test post is one attempt, like Hotmart's "send test" button, and never disables anything.
        decision = retry.decide(
            failure=failure, attempt=1, policy=replace(policy, max_attempts=1), earlier_all_url_errors=False
        )
        return replace(decision, disable_reason="")
    earlier_url_errors = True
    if failure is not None and failure.is_url_error and automatic_number >= conf.max_attempts:
        earlier_url_errors = _db_retrying(
            lambda: history_selectors.notification_earlier_attempts_all_url_errors(notification_id=notification.pk)
        )
    failing_since = notification.configuration.failing_since
    return retry.decide(
        failure=failure,
        attempt=automatic_number,
        policy=policy,
        earlier_all_url_errors=earlier_url_errors,
        retry_after=result.retry_after,
        jitter_factor=_rng.uniform(-1, 1),
        failing_for=(now - failing_since).total_seconds() if failing_since else None,
    )


def _save(notification, attempt, transition, disable_reason: str, succeeded: bool | None, now: datetime) -> bool:
    """Save the attempt with the transition it leads to, note the configuration's health (``succeeded``;
    None: this attempt says nothing about it), and disable the configuration if the rules say so."""
    configuration = notification.configuration
    health_changes = succeeded is not None and (succeeded == (configuration.failing_since is not None))
    # The common case (no change to the configuration) is one atomic statement; a transaction only when the
    # configuration changes with the attempt.
    with transaction.atomic() if (health_changes or disable_reason) else nullcontext():
        saved = history_services.attempt_record(
            notification=notification,
            lock_token=notification.lock_token,
            attempt=attempt,
            transition=transition,
            now=now,
        )
        if saved is not None and health_changes:
            configuration_services.configuration_note_outcome(
                configuration=notification.configuration, succeeded=succeeded, at=attempt.started_at
            )
        if saved is not None and disable_reason:
            configuration_id = notification.configuration_id
            if attempt.response_status == 410:
                done = configuration_gone(
                    owner_id=notification.owner_id, configuration_id=configuration_id, reason=disable_reason, now=now
                )
                if done:
                    log.warning("configuration_gone", configuration=configuration_id, action=done)
            else:
                stopped = configuration_stop(configuration_id=configuration_id, reason=disable_reason, now=now)
                if stopped is not None:
                    log.warning(
                        "configuration_disabled",
                        configuration=configuration_id,
                        reason=disable_reason,
                        stopped=stopped,
                    )
    return saved is not None


_STATUS = {
    retry.Verdict.DELIVERED: NotificationStatus.DELIVERED,
    retry.Verdict.RETRY: NotificationStatus.RETRYING,
    retry.Verdict.FAILED: NotificationStatus.FAILED,
}


def _limits(conf: DispatcherSettings) -> transport.Limits:
    return transport.Limits(
        connect_timeout=conf.connect_timeout,
        read_timeout=conf.read_timeout,
        total_timeout=conf.total_timeout,
        max_response_bytes=conf.response_max_bytes,
        addresses=transport.AddressPolicy(
            public_only=not conf.sandbox, allowed_networks=transport.parse_networks(conf.allowed_networks)
        ),
    )


def _db_retrying(fn: Callable[[], T], *, within: float = 20.0) -> T:
    """Run ``fn``, retrying while the database is briefly unreachable: an attempt already made must be kept."""
    deadline = time.monotonic() + within
    pause = 0.1
    while True:
        try:
            return fn()
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() + pause > deadline:
                raise
            log.warning(
                "database_unavailable_retrying", error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            )
            close_old_connections()
            time.sleep(pause)  # back off before reconnecting; nothing to await but the database itself
            pause = min(pause * 2, 2.0)


def notifications_sweep(*, now: datetime | None = None) -> int:
    """Enqueue every notification (and bulk resend job) with work to do but no message on its way."""
    conf = dispatcher_settings()
    now = now or timezone.now()
    due = history_selectors.notifications_due(now=now, grace_seconds=conf.stuck_grace, limit=conf.sweep_batch)
    sent = 0
    if due:
        history_services.notifications_mark_enqueued(notification_ids=[d.id for d in due], at=now)
        lanes: dict[str, list[int]] = {}
        for d in due:
            lanes.setdefault(lane_for(failing=d.failing, retry=d.retry, owner_id=d.owner_id), []).append(d.id)
        for lane, ids in lanes.items():
            sent += deliveries_enqueue(ids, lane=lane)
        log.info("swept", due=len(due), enqueued=sent)
    closed = history_services.notifications_close_interrupted(now=now)
    if closed:
        log.warning("interrupted_attempts_recorded", notifications=closed)
    jobs = history_selectors.bulk_resends_stalled(now=now, grace_seconds=conf.stuck_grace)
    if jobs:
        history_services.bulk_resends_mark_enqueued(job_ids=jobs, at=now)
        bulk_resends_enqueue(jobs)
    return sent


def bulk_resend_run(*, job_id: int, batch_size: int = 500) -> int:
    """Work through a bulk resend job in batches, asking for one manual attempt of each notification.

    Each batch moves the job's cursor, so a job whose worker died resumes where it stopped (the sweep
    enqueues it again); asking twice for the same resend sends it once. Answers how many were requested.
    """
    job = (
        BulkResend.objects.filter(pk=job_id)
        .exclude(status=BulkResendStatus.DONE)
        .select_related("configuration")
        .first()
    )
    if job is None:
        return 0
    requested = 0
    cursor = job.last_notification_id
    while True:
        ids = history_selectors.bulk_resend_candidates(job=job, after_id=cursor, limit=batch_size)
        if not ids:
            break
        now = timezone.now()
        with transaction.atomic():
            fresh = history_services.notifications_request_resend(notification_ids=ids, now=now)
            history_services.bulk_resend_advance(
                job_id=job.pk, last_notification_id=ids[-1], requested=len(fresh), now=now
            )
        deliveries_enqueue(
            fresh, lane=lane_for(failing=job.configuration.failing_since is not None, owner_id=job.owner_id)
        )
        requested += len(fresh)
        cursor = ids[-1]
    history_services.bulk_resend_finish(job_id=job.pk, now=timezone.now())
    log.info("bulk_resend_done", job=job.pk, requested=requested)
    return requested


def history_purge_old(*, now: datetime | None = None) -> int:
    """Delete events, notifications and attempts older than the retention period."""
    conf = dispatcher_settings()
    before = (now or timezone.now()) - timedelta(days=conf.history_retention_days)
    deleted = history_services.history_purge(before=before, batch_size=conf.purge_batch)
    if deleted:
        log.info("history_purged", events=deleted, before=before.isoformat())
    return deleted


__all__ = ["deliveries_enqueue", "history_purge_old", "notification_deliver", "notifications_sweep"]
