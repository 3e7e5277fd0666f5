"""The only code that writes receiver checks: asking for one, and running it on a worker.

A check never goes through the delivery engine. Its task (``receiver_checks.run``, on the maintenance queue)
builds the suite (``receiver_checks.suite``), saves the test notifications it is about to send (History),
makes every POST itself with the transport, side by side, saves each answer as an attempt, and grades each
check (``receiver_checks.grading``) as soon as what it needs is in, so the report fills in live. Test posts
never count for a configuration's health and never disable it: nothing here touches the configuration.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import structlog
from celery import current_app
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalogue.events import PURCHASE_EVENTS, EventType, PayloadVersion
from configurations import selectors as configuration_selectors
from configurations import services as configuration_services
from configurations.models import Configuration
from configurations.validators import validate_target_url
from core import hotmart
from core.secrets import mask_answer, mask_secret, masked_headers
from engine import transport
from engine.conf import dispatcher_settings
from history import services as history_services
from history.choices import AttemptTrigger
from receiver_checks import grading
from receiver_checks.choices import IN_FLIGHT, NOT_FINISHED, NOT_STARTED, QUEUE_WAIT, Grade, RunStatus
from receiver_checks.models import CheckResult, ReceiverCheck
from receiver_checks.suite import CheckSpec, Plan, Post, Sequence, Target, plan_build

log = structlog.get_logger(__name__)

RUN_TASK = "receiver_checks.run"
RUN_MARGIN = 15.0  # seconds beyond its POSTs' time limits: saving and grading
MAX_IN_FLIGHT = 3  # checks a producer may have queued or running at once
KEEP = 100  # checks kept per producer; older ones are deleted (their notifications stay in History)
MAX_THREADS = 32  # a check's POSTs in flight at once: every sequence of the suite fits
MAX_KEY_LENGTH = 100


# --- Asking for a check ---------------------------------------------------------------------------------------


def receiver_check_start(
    *,
    owner: AbstractBaseUser,
    configuration: Configuration | None = None,
    url: str | None = None,
    payload_version: str | None = None,
    idempotency_key: str = "",
    enqueue: bool = True,
) -> tuple[ReceiverCheck, bool]:
    """Ask for a check of a configuration, or of a bare URL with the owner's hottok; answers it and whether it
    is new.

    Asking again with the same ``idempotency_key``, or while a check of the same receiver is queued or running,
    answers that check: a double click or a retried request never runs it twice. A bare URL passes the same
    validation as a configuration's URL (production mode refuses private addresses). Bad input raises
    ValidationError keyed by field; nothing is saved then. ``enqueue=False`` leaves running it to the caller
    (``manage.py check-receiver --in-process``).
    """
    idempotency_key = (idempotency_key or "").strip()
    if len(idempotency_key) > MAX_KEY_LENGTH:
        raise ValidationError({"idempotency_key": f"The idempotency key is longer than {MAX_KEY_LENGTH} characters."})
    if idempotency_key:
        earlier = ReceiverCheck.objects.filter(owner_id=owner.pk, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return earlier, False
    conf = dispatcher_settings()
    target = _target(owner=owner, configuration=configuration, url=url, payload_version=payload_version, conf=conf)
    now = timezone.now()
    _expire_overdue(owner_id=owner.pk, now=now)
    running = ReceiverCheck.objects.filter(owner_id=owner.pk, target_key=target["target_key"], status__in=IN_FLIGHT)
    if (found := running.first()) is not None:
        return found, False
    if ReceiverCheck.objects.filter(owner_id=owner.pk, status__in=IN_FLIGHT).count() >= MAX_IN_FLIGHT:
        raise ValidationError(
            f"You have {MAX_IN_FLIGHT} receiver checks queued or running; wait for one of them to finish."
        )
    account, _ = configuration_services.account_get_or_create(user=owner)  # the hottok the check sends
    start_by = now + timedelta(seconds=QUEUE_WAIT)
    try:
        with transaction.atomic():
            run = ReceiverCheck.objects.create(
                owner=owner,
                idempotency_key=idempotency_key,
                connect_timeout=conf.connect_timeout,
                read_timeout=conf.read_timeout,
                total_timeout=conf.total_timeout,
                max_response_bytes=conf.response_max_bytes,
                created_at=now,
                start_by=start_by,
                deadline_at=start_by + timedelta(seconds=run_bound(conf.total_timeout)),
                hottok_shown=mask_secret(account.hottok),
                **target,
            )
            if enqueue:
                transaction.on_commit(lambda: _enqueue(run.pk))
    except IntegrityError:
        # Another request with the same key, or for the same receiver, saved its check first: that one stands.
        found = None
        if idempotency_key:
            found = ReceiverCheck.objects.filter(owner_id=owner.pk, idempotency_key=idempotency_key).first()
        found = found or running.first()
        if found is None:
            raise
        return found, False
    _prune(owner_id=owner.pk)
    log.info("receiver_check_asked", check=run.pk, owner=owner.pk, target=run.target_key)
    return run, True


def run_bound(total_timeout: float) -> float:
    """Seconds a check takes at most once started: two POSTs one after the other, each within its limit."""
    return 2 * total_timeout + RUN_MARGIN


def _target(*, owner, configuration, url, payload_version, conf) -> dict:
    """The fields naming what is checked, or ValidationError naming what is wrong."""
    if configuration is not None and url:
        raise ValidationError({"url": "Check either a configuration or a URL, not both."})
    if configuration is not None:
        if configuration.owner_id != owner.pk:
            raise ValidationError({"configuration": "No such configuration."})
        if payload_version and payload_version != configuration.payload_version:
            raise ValidationError(
                {"payload_version": "A configuration is checked in its own payload version; leave this out."}
            )
        return {
            "configuration": configuration,
            "url": configuration.url,
            "payload_version": configuration.payload_version,
            "events": list(configuration.events),
            "target_key": f"configuration:{configuration.pk}",
        }
    if not url:
        raise ValidationError({"url": "Enter the URL to check, or choose a configuration."})
    try:
        url = validate_target_url(url, policy=transport.policy_for(conf))
    except ValidationError as exc:
        raise ValidationError({"url": exc.messages}) from None
    payload_version = payload_version or PayloadVersion.V2
    if payload_version not in PayloadVersion.values:
        raise ValidationError({"payload_version": f"Choose {' or '.join(PayloadVersion.values)}."})
    # Every event, as a configuration of all 15 would get; the legacy 1.0 form exists for purchases only.
    events = [e for e in EventType.values if payload_version == PayloadVersion.V2 or e in PURCHASE_EVENTS]
    digest = hashlib.sha256(url.encode()).hexdigest()[:40]
    return {
        "configuration": None,
        "url": url,
        "payload_version": payload_version,
        "events": events,
        "target_key": f"url:{payload_version}:{digest}",
    }


def _enqueue(check_id: int) -> None:
    """Ring the maintenance queue; a broker that is down leaves the check to expire, saying why."""
    try:
        current_app.send_task(RUN_TASK, args=[check_id])
    except Exception as exc:  # noqa: BLE001 - kombu raises many kinds; all mean "not queued"
        log.warning("receiver_check_not_enqueued", check=check_id, error=str(exc) or type(exc).__name__)


def _expire_overdue(*, owner_id: int, now: datetime) -> None:
    """Close the owner's checks that no worker started in time, or whose worker stopped while running them."""
    in_flight = ReceiverCheck.objects.filter(owner_id=owner_id, status__in=IN_FLIGHT)
    in_flight.filter(status=RunStatus.QUEUED, start_by__lt=now).update(
        status=RunStatus.EXPIRED, finished_at=now, status_reason=NOT_STARTED
    )
    in_flight.filter(deadline_at__lt=now).update(status=RunStatus.EXPIRED, finished_at=now, status_reason=NOT_FINISHED)


def _prune(*, owner_id: int) -> None:
    old = ReceiverCheck.objects.filter(owner_id=owner_id).order_by("-created_at", "-id").values_list("id", flat=True)
    stale = list(old[KEEP : KEEP + 500])
    if stale:
        ReceiverCheck.objects.filter(pk__in=stale).exclude(status__in=IN_FLIGHT).delete()


# --- Running it -------------------------------------------------------------------------------------------------


@dataclass
class _Sent:
    """The answers to one sequence: per post, its notification and its attempts' results and headers."""

    sequence: Sequence
    posts: list[tuple[Post, int, list[tuple[transport.TransportResult, dict[str, str]]]]]


def receiver_check_run(*, check_id: int, task_id: str = "") -> str:
    """Run a queued check: send its POSTs, record them in History, grade each check as its answers come in.

    Idempotent: only a queued check that may still start is run, by one worker (a conditional UPDATE claims
    it); a check no worker started in time is expired instead. Bounded: every POST ends within the transport's
    limits and a sequence has at most two, so the check ends within ``run_bound``. Answers what happened.
    """
    now = timezone.now()
    claimed = ReceiverCheck.objects.filter(pk=check_id, status=RunStatus.QUEUED, start_by__gte=now).update(
        status=RunStatus.RUNNING, started_at=now
    )
    if not claimed:
        expired = ReceiverCheck.objects.filter(pk=check_id, status=RunStatus.QUEUED).update(
            status=RunStatus.EXPIRED, finished_at=now, status_reason=NOT_STARTED
        )
        return "expired" if expired else "skipped"
    run = ReceiverCheck.objects.select_related("owner", "configuration").get(pk=check_id)
    try:
        _run(run, task_id=task_id, now=now)
    except Exception:
        ReceiverCheck.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.EXPIRED,
            finished_at=timezone.now(),
            status_reason="The check stopped on an internal error; the worker's log has it.",
        )
        raise
    took_ms = int((timezone.now() - now).total_seconds() * 1000)
    log.info("receiver_check_done", check=run.pk, grade=run.grade, ms=took_ms)
    return run.grade


def _run(run: ReceiverCheck, *, task_id: str, now: datetime) -> None:
    account, _ = configuration_services.account_get_or_create(user=run.owner)
    target = Target(
        url=run.url,
        payload_version=run.payload_version,
        events=tuple(run.events),
        hottok=account.hottok,
        owner=run.owner,
        account=account,
    )
    plan = plan_build(target, now=now)
    posts = [post for sequence in plan.sequences for post in sequence.posts]
    notifications = history_services.receiver_check_notifications_create(
        owner_id=run.owner_id,
        configuration_id=run.configuration_id,
        target_url=run.url,
        items=[
            history_services.CheckNotification(
                event_type=post.event_type,
                event_uuid=post.event_uuid,
                occurred_at=post.occurred_at,
                facts=post.facts,
                transaction_code=post.transaction,
                buyer_email=post.buyer_email,
                payload=post.body,
                content_type=post.content_type,
                reason=f"Receiver check #{run.pk} ({post.note}): being sent.",
            )
            for post in posts
        ],
    )
    notification_of = {id(post): n.pk for post, n in zip(posts, notifications, strict=True)}
    results = _results_create(run, plan, notification_of)
    run.hottok_shown = mask_secret(account.hottok)
    run.save(update_fields=["hottok_shown"])

    limits = _limits(run)
    grading_limits = grading.Limits(run.connect_timeout, run.read_timeout, run.total_timeout)
    secrets = []
    if run.configuration is not None and run.configuration.signing_enabled:
        secrets = configuration_selectors.signing_secrets_active(configuration_id=run.configuration_id, now=now)
    outcomes: dict[str, _Sent] = {}
    sender = _Sender(url=run.url, limits=limits, secrets=secrets, notification_of=notification_of)

    def on_sent(sent: _Sent) -> None:
        for post, notification_id, tries in sent.posts:
            history_services.receiver_check_record(
                notification_id=notification_id,
                attempts=[
                    _attempt(result, headers, number=n, url=run.url, body=post.body, task_id=task_id)
                    for n, (result, headers) in enumerate(tries, start=1)
                ],
                reason=f"Receiver check #{run.pk} ({post.note}).",
            )
        outcomes[sent.sequence.key] = sent
        _grade_ready(run, plan, results, outcomes, target, grading_limits)

    _send_all(plan.sequences, sender, on_sent, within=run_bound(run.total_timeout) - RUN_MARGIN / 2)
    _grade_ready(run, plan, results, outcomes, target, grading_limits, final=True)
    run.grade = grading.overall([r.grade for r in results.values()])
    run.status, run.finished_at = RunStatus.DONE, timezone.now()
    run.save(update_fields=["grade", "status", "finished_at"])


def _limits(run: ReceiverCheck) -> transport.Limits:
    """The run's time and size limits, with this process's address policy (production: public ones only)."""
    conf = dispatcher_settings()
    return transport.Limits(
        connect_timeout=run.connect_timeout,
        read_timeout=run.read_timeout,
        total_timeout=run.total_timeout,
        max_response_bytes=run.max_response_bytes,
        addresses=transport.policy_for(conf),
    )


def _results_create(run: ReceiverCheck, plan: Plan, notification_of: dict[int, int]) -> dict[str, CheckResult]:
    """A row per check, waiting; those that need no POST are graded at once."""
    sequences = {sequence.key: sequence for sequence in plan.sequences}
    rows = []
    for position, spec in enumerate(plan.checks):
        own = sequences.get(spec.key)
        rows.append(
            CheckResult(
                run=run,
                key=spec.key,
                position=position,
                title=spec.title,
                why=spec.why,
                sent=spec.sent,
                notification_ids=[notification_of[id(post)] for post in own.posts] if own else [],
            )
        )
    CheckResult.objects.bulk_create(rows)
    results = {row.key: row for row in CheckResult.objects.filter(run=run)}
    now = timezone.now()
    for spec in plan.checks:
        verdict = None
        if spec.skip_reason:
            verdict = grading.Verdict(Grade.SKIP, spec.skip_reason)
        elif spec.key == "https":
            verdict = grading.grade_https(run.url, local=_is_local(run.url))
        if verdict is not None:
            _save_verdict(results[spec.key], verdict, answers=[], now=now)
    return results


class _Sender:
    """Makes a sequence's POSTs, one after the other, in a thread of its own; touches no database."""

    def __init__(self, *, url: str, limits: transport.Limits, secrets: list[str], notification_of: dict[int, int]):
        self.url, self.limits, self.secrets, self.notification_of = url, limits, secrets, notification_of

    def __call__(self, sequence: Sequence) -> _Sent:
        sent = _Sent(sequence, [])
        for post in sequence.posts:
            notification_id = self.notification_of[id(post)]
            tries = []
            for number in range(1, post.times + 1):
                headers = self.headers(post, notification_id=notification_id, attempt=number)
                result = transport.post(url=self.url, body=post.body.encode(), headers=headers, limits=self.limits)
                tries.append((result, headers))
            sent.posts.append((post, notification_id, tries))
        return sent

    def headers(self, post: Post, *, notification_id: int, attempt: int) -> dict[str, str]:
        """A delivery's headers, but with the hottok the post says (or none), and only Hotmart's if it says so."""
        headers = hotmart.build_headers(
            hottok=post.hottok or "",
            content_type=post.content_type,
            delivery_id=notification_id,
            attempt=attempt,
            event_id=str(post.event_uuid),
        )
        if post.hottok is None:
            headers.pop(hotmart.HOTTOK_HEADER)
        if post.hotmart_only:
            for name in (hotmart.DELIVERY_HEADER, hotmart.ATTEMPT_HEADER, hotmart.EVENT_HEADER):
                headers.pop(name)
        elif self.secrets and not post.forged:  # a forger has no signing secret
            headers |= hotmart.sign(
                secrets=self.secrets,
                message_id=str(post.event_uuid),
                timestamp=int(time.time()),
                body=post.body.encode(),
            )
        return headers


def _send_all(
    sequences: list[Sequence], sender: Callable[[Sequence], _Sent], on_sent: Callable[[_Sent], None], *, within: float
) -> None:
    """Run every sequence side by side; hand each one's answers to ``on_sent`` (in this thread) as it ends."""
    pool = ThreadPoolExecutor(max_workers=max(1, min(len(sequences), MAX_THREADS)), thread_name_prefix="check")
    deadline = time.monotonic() + within
    try:
        pending: set[Future] = {pool.submit(sender, sequence) for sequence in sequences}
        while pending:
            done, pending = wait(pending, timeout=max(0.0, deadline - time.monotonic()), return_when=FIRST_COMPLETED)
            if not done:
                log.warning("receiver_check_sequences_unfinished", unfinished=len(pending))
                return  # the transport's own limits make this unreachable; the final grading says what is missing
            for future in done:
                on_sent(future.result())
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _attempt(
    result: transport.TransportResult, headers: dict[str, str], *, number: int, url: str, body: str, task_id: str
) -> history_services.AttemptData:
    """The attempt as History keeps it (``history.services.receiver_check_record`` escapes what no database
    stores), a secret the receiver echoes masked."""
    answer_headers, answer_body = mask_answer(
        result.headers, result.body.decode("utf-8", errors="backslashreplace"), sent=headers
    )
    return history_services.AttemptData(
        number=number,
        trigger=AttemptTrigger.AUTOMATIC,
        started_at=result.started_at,
        duration_ms=result.duration_ms,
        request_url=url,
        request_headers=masked_headers(headers),
        request_body_sha256=hashlib.sha256(body.encode()).hexdigest(),
        response_status=result.status_code,
        response_headers=answer_headers,
        response_body=answer_body,
        response_body_truncated=result.truncated,
        error_kind=result.error_kind,
        error_message=result.error_message,
        task_id=task_id,
    )


def _storable(text: str) -> str:
    """A receiver's text in a check's answers (JSON), with NUL, which PostgreSQL refuses, kept as ``\\x00``."""
    return text.replace("\x00", "\\x00")


def _answer(result: transport.TransportResult) -> grading.Answer:
    location = next((v for k, v in result.headers.items() if k.lower() == "location"), "")
    return grading.Answer(
        status=result.status_code,
        duration_ms=result.duration_ms,
        error_kind=result.error_kind,
        error_message=_storable(result.error_message),
        location=_storable(location) if 300 <= result.status_code < 400 else "",
    )


# --- Grading as answers come in -------------------------------------------------------------------------------


def _grade_ready(run, plan: Plan, results, outcomes: dict[str, _Sent], target: Target, limits, *, final=False):
    """Grade every waiting check whose POSTs (and the plain one it is compared with) have all been answered;
    with ``final``, also the checks made from every POST, and any left waiting (which ran out of time)."""
    now = timezone.now()
    for spec in plan.checks:
        row = results[spec.key]
        if row.grade != Grade.PENDING:
            continue
        if spec.derived:
            if not final:
                continue
            verdict = _derived(spec.key, outcomes, run.url, limits)
            _save_verdict(row, verdict, answers=[], now=now)
            continue
        if not all(key in outcomes for key in spec.needs):
            if final:
                verdict = grading.Verdict(Grade.WARN, "No answer came before the check's own time limit ran out.")
                _save_verdict(row, verdict, answers=_answers(outcomes.get(spec.key)), now=now)
            continue
        verdict = _verdict(spec, outcomes, target, limits)
        _save_verdict(row, verdict, answers=_answers(outcomes[spec.key]), now=now)


def _verdict(spec: CheckSpec, outcomes: dict[str, _Sent], target: Target, limits: grading.Limits) -> grading.Verdict:
    """The grade of a check whose POSTs (and the plain notification it is compared with) are all answered."""

    def last(sequence_key: str) -> grading.Answer | None:
        sent = outcomes.get(sequence_key)
        return _answer(sent.posts[-1][2][-1][0]) if sent else None

    key = spec.key
    own = outcomes[key]
    main = last(key)
    checked_event = own.sequence.posts[-1].event_type
    control = last(spec.needs[1]) if len(spec.needs) > 1 else None
    if key.startswith("event:"):
        verdict = grading.grade_delivery(main, url=target.url, content_type=target.content_type, limits=limits)
        if len(own.posts) > 1:
            earlier_post, _, earlier_tries = own.posts[0]
            earlier = _answer(earlier_tries[-1][0])
            note = f" Its {earlier_post.event_type} before it got {earlier.describe()}."
            verdict = grading.Verdict(verdict.grade, verdict.summary + note, verdict.fix)
        return verdict
    if key in ("hottok_wrong", "hottok_missing"):
        return grading.grade_forged(main, control)
    if key == "repeat":
        tries = own.posts[0][2]
        return grading.grade_repeat(_answer(tries[0][0]), _answer(tries[-1][0]))
    if key == "unknown_purchase":
        return grading.grade_tolerant(
            main,
            control,
            compared=f"the {checked_event} of a purchase it had been told about",
            fix="When the purchase (or the buyer) is unknown, log it and answer 200, or keep the event to apply "
            "once the purchase arrives; never answer an error for it: Hotmart would retry, then give up.",
        )
    if key == "unknown_field":
        return grading.grade_tolerant(
            main,
            control,
            compared="the same event without them",
            fix="Ignore fields you do not know: do not validate the payload against a closed schema (no "
            "additionalProperties: false, no forbid-extra models); read the fields you use.",
        )
    if key == "size":
        return grading.grade_tolerant(
            main,
            control,
            compared="the same event with ordinary names",
            fix="Accept bodies of at least 1 MB (nginx client_max_body_size, express.json({limit}), PHP "
            "post_max_size), and store names up to 255 characters, in UTF-8.",
        )
    if key == "hotmart_headers":
        own_headers = "X-Dispatcher-Delivery-Id, X-Dispatcher-Attempt, X-Dispatcher-Event-Id"
        return grading.grade_tolerant(
            main,
            control,
            compared="the same event with this simulator's own headers",
            fix=f"Do not require {own_headers} or the webhook-* signature headers: Hotmart sends none of them. "
            "Identify a notification by the payload's `id` and check the X-HOTMART-HOTTOK header.",
        )
    if key == "payload_format":
        switched = own.sequence.posts[-1]
        other_version = "JSON 2.0.0" if switched.content_type.startswith("application/json") else "legacy 1.0 form"
        return grading.grade_format(
            control,
            main,
            configured=target.format_name,
            other_version=other_version,
            configured_type=target.content_type,
        )
    raise ValueError(f"no grading for check {key!r}")


def _derived(key: str, outcomes: dict[str, _Sent], url: str, limits: grading.Limits) -> grading.Verdict:
    every = [
        (_what(sent.sequence.key, post), _answer(result))
        for sent in outcomes.values()
        for post, _, tries in sent.posts
        for result, _ in tries
    ]
    if key == "redirects":
        return grading.grade_redirects([(what, a) for what, a in every if a.redirected], url=url)
    return grading.grade_speed(every, limits=limits)


def _what(sequence_key: str, post: Post) -> str:
    """How the report names a POST: ``PURCHASE_REFUNDED``, ``PURCHASE_APPROVED (wrong hottok)``."""
    if sequence_key.startswith("event:") and post.note == "checked":
        return post.event_type
    return f"{post.event_type} ({post.note})"


def _answers(sent: _Sent | None) -> list[dict]:
    if sent is None:
        return []
    rows = []
    for post, notification_id, tries in sent.posts:
        for number, (result, _headers) in enumerate(tries, start=1):
            answer = _answer(result)
            rows.append(
                {
                    "notification": notification_id,
                    "event_type": post.event_type,
                    "note": post.note,
                    "attempt": number,
                    "status": answer.status,
                    "duration_ms": answer.duration_ms,
                    "error_kind": answer.error_kind,
                    "error": answer.error_message,
                    "location": answer.location,
                }
            )
    return rows


def _save_verdict(row: CheckResult, verdict: grading.Verdict, *, answers: list[dict], now: datetime) -> None:
    row.grade, row.summary, row.fix, row.answers, row.graded_at = (
        verdict.grade,
        verdict.summary,
        verdict.fix,
        answers,
        now,
    )
    row.save(update_fields=["grade", "summary", "fix", "answers", "graded_at"])


def _is_local(url: str) -> bool:
    """A URL to this machine or a private network: plain http is fine there for testing."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False
