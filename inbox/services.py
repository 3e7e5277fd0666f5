"""The only code that writes inboxes and the requests they catch."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.documents import parse_json
from inbox.conf import inbox_settings
from inbox.models import DEFAULT_BODY, Inbox, InboxRequest

MAX_RESPONSE_BODY = 64 * 1024
MAX_FAIL_FIRST = 10_000
_UNSET = object()


def _clean(
    *,
    owner: AbstractBaseUser,
    instance: Inbox | None,
    name,
    status_code,
    response_body,
    response_content_type,
    delay_ms,
    fail_first,
    fail_status,
) -> dict:
    """Check the settings an owner gives an inbox; ValidationError names each wrong one."""
    errors: dict[str, str] = {}
    values: dict = {}
    max_delay_ms = int(inbox_settings().max_delay * 1000)
    if name is not _UNSET:
        name = (name or "").strip()
        if not name:
            errors["name"] = "Give the inbox a name."
        elif len(name) > 100:
            errors["name"] = "The name is longer than 100 characters."
        else:
            clash = Inbox.objects.filter(owner=owner, name=name)
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                errors["name"] = f"You already have an inbox named {name!r}."
        values["name"] = name
    for field, value, low, high in (
        ("status_code", status_code, 200, 599),
        ("fail_status", fail_status, 200, 599),
        ("delay_ms", delay_ms, 0, max_delay_ms),
        ("fail_first", fail_first, 0, MAX_FAIL_FIRST),
    ):
        if value is _UNSET:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            errors[field] = f"A whole number from {low} to {high}; got {value!r}."
        elif not low <= value <= high:
            unit = " milliseconds (INBOX_MAX_DELAY)" if field == "delay_ms" else ""
            errors[field] = f"From {low} to {high}{unit}; got {value}."
        values[field] = value
    if response_body is not _UNSET:
        response_body = response_body or ""
        if len(response_body.encode("utf-8")) > MAX_RESPONSE_BODY:
            errors["response_body"] = f"At most {MAX_RESPONSE_BODY // 1024} KiB."
        values["response_body"] = response_body
    if response_content_type is not _UNSET:
        response_content_type = (response_content_type or "").strip()
        if not response_content_type or len(response_content_type) > 100 or "\n" in response_content_type:
            errors["response_content_type"] = "A media type such as application/json or text/plain."
        values["response_content_type"] = response_content_type
    if errors:
        raise ValidationError(errors)
    return values


def inbox_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    status_code: int = 200,
    response_body: str = DEFAULT_BODY,
    response_content_type: str = "application/json",
    delay_ms: int = 0,
    fail_first: int = 0,
    fail_status: int = 500,
) -> Inbox:
    """A new inbox with a fresh secret token; it answers ``status_code`` with ``response_body`` after
    ``delay_ms``, except the first ``fail_first`` requests, which get ``fail_status``."""
    values = _clean(
        owner=owner,
        instance=None,
        name=name,
        status_code=status_code,
        response_body=response_body,
        response_content_type=response_content_type,
        delay_ms=delay_ms,
        fail_first=fail_first,
        fail_status=fail_status,
    )
    for _ in range(10):
        try:
            with transaction.atomic():
                return Inbox.objects.create(owner=owner, token=secrets.token_urlsafe(18), **values)
        except IntegrityError:
            continue  # a token clash, astronomically unlikely; or the name taken meanwhile
    raise ValidationError({"name": "Could not create the inbox; try another name."})


def inbox_update(
    *,
    inbox: Inbox,
    name=_UNSET,
    status_code=_UNSET,
    response_body=_UNSET,
    response_content_type=_UNSET,
    delay_ms=_UNSET,
    fail_first=_UNSET,
    fail_status=_UNSET,
) -> Inbox:
    """Change how an inbox answers; what is not given stays. Changing ``fail_first`` starts its count again."""
    values = _clean(
        owner=inbox.owner,
        instance=inbox,
        name=name,
        status_code=status_code,
        response_body=response_body,
        response_content_type=response_content_type,
        delay_ms=delay_ms,
        fail_first=fail_first,
        fail_status=fail_status,
    )
    if "fail_first" in values:
        values["received_count"] = 0
    for field, value in values.items():
        setattr(inbox, field, value)
    inbox.save(update_fields=[*values, "updated_at"])
    return inbox


def inbox_reset(*, inbox: Inbox) -> int:
    """Forget the inbox's requests and start its count (and its fail-first-N) again; answers how many went."""
    with transaction.atomic():
        deleted, _ = InboxRequest.objects.filter(inbox=inbox).delete()
        Inbox.objects.filter(pk=inbox.pk).update(received_count=0, updated_at=timezone.now())
    inbox.received_count = 0
    return deleted


def inbox_delete(*, inbox: Inbox) -> None:
    inbox.delete()


@dataclass(frozen=True)
class CaughtRequest:
    """A request as the catching view read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    body_size: int
    body_truncated: bool
    remote_addr: str


@dataclass(frozen=True)
class Answer:
    """What the inbox answers a request: after ``delay_ms``, this status, body and content type."""

    number: int
    status: int
    body: str
    content_type: str
    delay_ms: int


def hotmart_summary(body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """What a caught Hotmart notification is about: {"event_type", "subject"} (its event, or "1.0 <status>" for
    the legacy form postback, and its transaction or subscriber code); empty strings for other requests."""
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "").lower()
    event, subject = "", ""
    try:
        if "json" in content_type:
            document = parse_json(body)  # NOT_JSON (no .get) for junk, or a document nested too deeply
            data = document.get("data") or {}
            event = document.get("event") or ""
            subject = (data.get("purchase") or {}).get("transaction") or ""
            subscriber = (data.get("subscriber") or (data.get("subscription") or {}).get("subscriber") or {}).get(
                "code"
            )
            if not subject and subscriber:
                subject = f"subscriber {subscriber}"
        elif "x-www-form-urlencoded" in content_type:
            form = parse_qs(body.decode("utf-8"), max_num_fields=500)
            status, transaction_code = form.get("status", [""])[0], form.get("transaction", [""])[0]
            event = f"1.0 {status}" if status and transaction_code else ""
            subject = transaction_code if event else ""
    except (ValueError, AttributeError, TypeError):  # not what it claims to be, or cut at the cap
        return {"event_type": "", "subject": ""}
    clean = [value if isinstance(value, str) and value.isprintable() else "" for value in (event, subject)]
    return {"event_type": clean[0][:64], "subject": clean[1][:64]}


def inbox_catch(*, token: str, request: CaughtRequest, now: datetime | None = None) -> Answer | None:
    """Record a request to the inbox ``token`` and decide the answer; None when there is no such inbox.

    The count is taken in the same transaction as the record, so the fail-first-N rule holds under concurrent
    requests. Beyond the cap (INBOX_MAX_REQUESTS) the oldest requests of the inbox are dropped.
    """
    now = now or timezone.now()
    conf = inbox_settings()
    with transaction.atomic():
        if not Inbox.objects.filter(token=token).update(received_count=F("received_count") + 1):
            return None
        inbox = Inbox.objects.get(token=token)
        number = inbox.received_count
        failing = number <= inbox.fail_first
        status = inbox.fail_status if failing else inbox.status_code
        if failing:
            body = f'{{"error": "failing on purpose: request {number} of the first {inbox.fail_first}"}}'
            content_type = "application/json"
        else:
            body, content_type = inbox.response_body, inbox.response_content_type
        InboxRequest.objects.create(
            inbox=inbox,
            number=number,
            received_at=now,
            method=request.method[:16],
            path=request.path,
            headers=request.headers,
            body=request.body,
            body_size=request.body_size,
            body_truncated=request.body_truncated,
            remote_addr=request.remote_addr[:64],
            response_status=status,
            response_delay_ms=inbox.delay_ms,
            **hotmart_summary(request.body, request.headers),
        )
        InboxRequest.objects.filter(inbox=inbox, number__lte=number - conf.max_requests).delete()
    return Answer(number=number, status=status, body=body, content_type=content_type, delay_ms=inbox.delay_ms)


def inbox_requests_purge(*, before: datetime, batch_size: int = 5000) -> int:
    """Delete caught requests received before ``before``, a batch at a time; answers how many."""
    deleted = 0
    while True:
        ids = list(
            InboxRequest.objects.filter(received_at__lt=before).order_by("id").values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        InboxRequest.objects.filter(pk__in=ids).delete()
        deleted += len(ids)


def inbox_requests_purge_expired(*, now: datetime | None = None) -> int:
    """Delete the requests older than INBOX_RETENTION_HOURS (the beat task ``inbox.purge``)."""
    conf = inbox_settings()
    return inbox_requests_purge(before=(now or timezone.now()) - timedelta(hours=conf.retention_hours))
