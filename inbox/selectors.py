"""Queries on inboxes and their requests shared by the inbox page, the command line and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet

from core.hotmart import HOTTOK_HEADER
from core.secrets import header_value, mask_body, masked_headers
from inbox.conf import inbox_settings
from inbox.models import Inbox, InboxRequest


def inbox_url(inbox: Inbox) -> str:
    """The address to give a configuration: ``{INBOX_BASE_URL}/inbox/<token>/``."""
    return f"{inbox_settings().base_url}/inbox/{inbox.token}/"


def inbox_answer_text(inbox: Inbox) -> str:
    """How an inbox answers, in a few words: "200 after 1.5 s, but 500 to the first 2 requests"."""
    text = f"{inbox.status_code}"
    if inbox.delay_ms:
        text += f" after {inbox.delay_ms / 1000:g} s"
    if inbox.fail_first:
        text += f", but {inbox.fail_status} to the first {inbox.fail_first} requests"
    return text


def inbox_list(*, owner_id: int) -> QuerySet[Inbox]:
    """The owner's inboxes by name, each with ``request_count`` (requests kept)."""
    return Inbox.objects.filter(owner_id=owner_id).annotate(request_count=Count("requests")).order_by("name", "id")


def inbox_get(*, owner_id: int, inbox_id: int) -> Inbox | None:
    """One of the owner's inboxes, with ``request_count``."""
    return inbox_list(owner_id=owner_id).filter(pk=inbox_id).first()


def inbox_get_by_name(*, owner_id: int, name: str) -> Inbox | None:
    return Inbox.objects.filter(owner_id=owner_id, name=name).first()


def inbox_requests(
    *,
    inbox_id: int,
    after_id: int | None = None,
    limit: int = 50,
    oldest_first: bool = False,
    with_bodies: bool = False,
) -> list[InboxRequest]:
    """The inbox's requests, newest first (or ``oldest_first``), without their bodies unless ``with_bodies``.

    With ``after_id`` only those that came after that request: a poller passes the newest ``id`` it has seen.
    Ids only grow, and an inbox's requests get theirs in the order they are recorded (under the inbox's row
    lock), so none is skipped; numbers start again from 1 when the inbox's count restarts. A poller that must
    not miss any asks ``oldest_first``, so a burst larger than ``limit`` comes in order.
    """
    queryset = InboxRequest.objects.filter(inbox_id=inbox_id)
    if not with_bodies:
        queryset = queryset.defer("body")
    if after_id is not None:
        queryset = queryset.filter(pk__gt=after_id)
    return list(queryset.order_by("id" if oldest_first else "-id")[:limit])


def inbox_request_get(*, owner_id: int, request_id: int) -> InboxRequest | None:
    return InboxRequest.objects.select_related("inbox").filter(inbox__owner_id=owner_id, pk=request_id).first()


@dataclass(frozen=True)
class RequestView:
    """A caught request as it may be shown: headers and body with secrets masked unless revealed."""

    id: int
    number: int
    received_at: datetime
    method: str
    path: str
    headers: dict[str, str]
    content_type: str
    body_text: str  # decoded as UTF-8 (undecodable bytes replaced)
    body_size: int
    body_truncated: bool
    remote_addr: str
    response_status: int
    response_delay_ms: int
    event_type: str  # a Hotmart notification's event ("1.0 approved" for the legacy postback), else ""
    subject: str  # its transaction ("HP...") or "subscriber <code>", else ""


def inbox_request_view(request: InboxRequest, *, reveal: bool = False) -> RequestView:
    headers = dict(request.headers)
    content_type = header_value(headers, "Content-Type")
    body_text = bytes(request.body).decode("utf-8", errors="replace")
    if not reveal:
        # The header's hottok is hidden in the body too, even in one that does not parse (cut at the cap).
        body_text = mask_body(body_text, known=[header_value(headers, HOTTOK_HEADER)])
        headers = masked_headers(headers)
    return RequestView(
        id=request.pk,
        number=request.number,
        received_at=request.received_at,
        method=request.method,
        path=request.path,
        headers=headers,
        content_type=content_type,
        body_text=body_text,
        body_size=request.body_size,
        body_truncated=request.body_truncated,
        remote_addr=request.remote_addr,
        response_status=request.response_status,
        response_delay_ms=request.response_delay_ms,
        event_type=request.event_type,
        subject=request.subject,
    )
