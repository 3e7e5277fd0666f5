"""The engine's database work, a batch at a time, run on the engine's few database threads (never on its event
loop): claim what a lane has due and make it ready to send; save what a batch of attempts led to.

Each function is one short unit of work: the claim is one statement (plus, rarely, the record of attempts a
dead worker left behind, and cancellations); the save is one statement for the attempts, and a few more only
when a configuration's health changes or it must be disabled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

import structlog
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, transaction
from django.utils import timezone

from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from engine import attempts
from engine.attempts import Outcome, Send
from engine.conf import DispatcherSettings
from history import claims, lanes
from history.lanes import DELIVERIES, lane_for
from history.publishing import configuration_gone, configuration_stop

log = structlog.get_logger(__name__)
T = TypeVar("T")


def claim(*, lane: str, limit: int, places: dict[int, int], conf: DispatcherSettings, task_id: str = "") -> list[Send]:
    """Claim up to ``limit`` notifications of ``lane`` that have something to send now, and answer their POSTs.

    First, attempts cut off by a dead worker are recorded as interrupted (they count); notifications whose
    configuration was removed, or disabled (unless a manual resend or a test post asked for it), are
    cancelled without a POST.
    """
    now = timezone.now()
    claimed = claims.notifications_claim(
        lane=lane,
        limit=limit,
        now=now,
        lease_seconds=conf.lease_seconds,
        max_attempts=conf.max_attempts,
        places=places,
        default_places=conf.configuration_concurrency,
    )
    if not claimed:
        return []
    lost_records, ready = [], []
    for notification in claimed:
        if notification.interrupted_at is not None:
            record, notification = attempts.interrupted(notification, conf=conf, now=now, task_id=task_id)
            lost_records.append(record)
            if notification is None:
                continue
        ready.append(notification)
    if lost_records:
        kept = claims.attempts_record(records=lost_records, now=now)
        for record in lost_records:
            log.warning("attempt_interrupted", notification=record.notification_id, attempt=record.attempt.number)
        lost = {record.notification_id for record in lost_records} - kept  # claims another worker took meanwhile
        ready = [n for n in ready if n.pk not in lost]
    cancels = []
    for notification in ready:
        configuration = notification.configuration
        if configuration is None:
            cancels.append((notification.pk, "Configuration removed."))
        elif not (configuration.is_active or notification.manual or notification.is_test):
            cancels.append((notification.pk, "Configuration disabled."))
    if cancels:
        claims.notifications_cancel_claimed(cancels=cancels, lock_token=claimed[0].lock_token)
        cancelled = {pk for pk, _ in cancels}
        ready = [n for n in ready if n.pk not in cancelled]
        log.info("cancelled", notifications=sorted(cancelled))
    secrets = {
        configuration_id: configuration_selectors.signing_secrets_active(configuration_id=configuration_id, now=now)
        for configuration_id in {n.configuration_id for n in ready if n.configuration.signing_enabled}
    }
    return [attempts.prepare(n, signing_secrets=secrets.get(n.configuration_id, []), task_id=task_id) for n in ready]


def save(*, outcomes: Sequence[Outcome]) -> set[int]:
    """Save a batch of attempts and what they lead to; answers the notifications whose attempt was saved.

    Then, for the configurations concerned: the failing clock started or stopped (and their waiting
    notifications moved between the lanes accordingly), and the ones the rules disable, disabled. All in one
    transaction: nobody reads a notification failed by a 410 while its configuration is still active, and a
    database error anywhere leaves nothing half saved (the caller saves the batch again).
    """
    with transaction.atomic():
        return _save(outcomes)


def _save(outcomes: Sequence[Outcome]) -> set[int]:
    now = timezone.now()
    saved = claims.attempts_record(records=[outcome.record for outcome in outcomes], now=now)
    kept = [outcome for outcome in outcomes if outcome.record.notification_id in saved]
    health: dict[int, tuple[bool, datetime]] = {}
    for outcome in kept:
        if outcome.health is not None:
            health[outcome.send.configuration_id] = (outcome.health, outcome.result.started_at)
    if health:
        _note_health(health, kept)
    disabled: set[int] = set()
    for outcome in kept:
        configuration_id = outcome.send.configuration_id
        if outcome.disable_reason and configuration_id not in disabled:
            disabled.add(configuration_id)
            try:
                with transaction.atomic():  # a savepoint: a disable that cannot be saved keeps the batch's attempts
                    _disable(outcome, now)
            except (OperationalError, InterfaceError):
                raise  # the database is away: the whole batch is saved again
            except DatabaseError:
                log.exception("configuration_not_disabled", configuration=configuration_id)
    return saved


def _note_health(health: dict[int, tuple[bool, datetime]], outcomes: Sequence[Outcome]) -> None:
    owners = {outcome.send.configuration_id: outcome.send.claimed.owner_id for outcome in outcomes}
    failing, recovered = configuration_services.configurations_note_outcomes(outcomes=health)
    for configuration_id in failing:
        retries = lane_for(failing=True, owner_id=owners[configuration_id])
        if retries != DELIVERIES:
            # A failing receiver's notifications leave the healthy ones' lane.
            moved = claims.notifications_move_lane(
                configuration_id=configuration_id, to_lane=retries, from_lane=DELIVERIES, first_attempts_only=False
            )
            _ring_once_saved(retries, moved)
            log.info("configuration_failing", configuration=configuration_id, moved_to_retries=moved)
    for configuration_id in recovered:
        lane = lane_for(failing=False, owner_id=owners[configuration_id])
        retries = lane_for(failing=True, owner_id=owners[configuration_id])
        if lane != retries:
            moved = claims.notifications_move_lane(
                configuration_id=configuration_id, to_lane=lane, from_lane=retries, first_attempts_only=True
            )
            _ring_once_saved(lane, moved)
            log.info("configuration_recovered", configuration=configuration_id, moved_to_deliveries=moved)


def _disable(outcome: Outcome, now: datetime) -> None:
    claimed = outcome.send.claimed
    reason = outcome.disable_reason
    if outcome.result.status_code == 410:
        done = configuration_gone(
            owner_id=claimed.owner_id, configuration_id=claimed.configuration_id, reason=reason, now=now
        )
        if done:
            log.warning("configuration_gone", configuration=claimed.configuration_id, action=done)
        return
    stopped = configuration_stop(configuration_id=claimed.configuration_id, reason=reason, now=now)
    if stopped is not None:
        log.warning("configuration_disabled", configuration=claimed.configuration_id, reason=reason, stopped=stopped)


def release(*, sends: Sequence[Send]) -> int:
    """Give claims back without a POST (a worker stopping, a host with no place left): due again at once, as
    they were."""
    done = 0
    for token in {send.claimed.lock_token for send in sends}:
        ids = [send.claimed.pk for send in sends if send.claimed.lock_token == token]
        done += claims.notifications_release(notification_ids=ids, lock_token=token)
    return done


def reroute_slow(*, configuration_id: int, owner_id: int) -> int:
    """A receiver too slow for its fair share: its notifications waiting in the deliveries lane move to the
    retries lane, where they wait without standing in front of healthy receivers' notifications."""
    retries = lane_for(failing=True, owner_id=owner_id)
    if retries == DELIVERIES:
        return 0
    moved = claims.notifications_move_lane(
        configuration_id=configuration_id, to_lane=retries, from_lane=DELIVERIES, first_attempts_only=False
    )
    _ring_once_saved(retries, moved)
    return moved


def _ring_once_saved(lane: str, moved: int) -> None:
    """Notifications moved to ``lane`` may be due now: its workers hear of it at once, not at the next sweep."""
    if moved:
        transaction.on_commit(lambda: lanes.ring([lane]))


def db_retrying(fn: Callable[[], T], *, within: float = 20.0) -> T:
    """Run ``fn``, retrying while the database is briefly unreachable: an attempt already made must be kept."""
    deadline = time.monotonic() + within
    pause = 0.1
    close_old_connections()
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
