"""Helpers of the page tests: records events and saves attempts through the services, as the engine does."""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from datetime import timedelta

from django.utils import timezone

from history import claims
from history import services as history_services
from history.choices import AttemptTrigger, ErrorKind, NotificationStatus
from history.models import Notification
from history.publishing import event_record
from tests.factories import ProductFactory

HTMX = {"HTTP_HX_REQUEST": "true"}  # what htmx adds to the requests it makes


def page_of(response) -> str:
    """The HTML of a page that must answer 200."""
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def page_after(response) -> str:
    """The page a POST led to (posted with ``follow=True``): every dashboard POST answers with a redirect, also
    when its form has errors (Post/Redirect/Get), and the page it leads to shows them."""
    assert response.redirect_chain, f"the POST answered {response.status_code} without a redirect"
    return page_of(response)


def error_under(page: str, field_id: str) -> str:
    """The text of the error list under a field (``<ul class="errorlist..." id="<field_id>_error">``)."""
    match = re.search(rf'<ul class="errorlist[^"]*"[^>]* id="{field_id}_error">(.*?)</ul>', page, re.S)
    assert match, f"no error under {field_id}"
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def record(owner, product=None, event_type="PURCHASE_APPROVED", **kwargs) -> list[Notification]:
    product = product or ProductFactory(owner=owner)
    return event_record(owner=owner, event_type=event_type, product=product, **kwargs).notifications


def add_attempt(
    notification: Notification,
    *,
    status: int = 200,
    body: str = "ok",
    error_kind: str = ErrorKind.NONE,
    error_message: str = "",
    final: str | None = None,
    manual: bool = False,
) -> None:
    """Save one attempt as a worker would (claim the row, then record with its transition), without sending."""
    now = timezone.now()
    token = uuid.uuid4()
    changes = {"lock_token": token, "locked_until": now + timedelta(seconds=60), "claimed_at": now}
    if manual:
        changes["resend_requested_at"] = now
    Notification.objects.filter(pk=notification.pk).update(**changes)
    claimed = Notification.objects.select_related("configuration").get(pk=notification.pk)
    ok = 200 <= status < 300
    target = final or (NotificationStatus.DELIVERED if ok else NotificationStatus.RETRYING)
    transition = history_services.Transition(
        target, next_attempt_at=now + timedelta(seconds=30) if target == NotificationStatus.RETRYING else None
    )
    attempt = history_services.AttemptData(
        number=claimed.attempt_count + 1,
        trigger=AttemptTrigger.MANUAL if manual else AttemptTrigger.AUTOMATIC,
        started_at=now,
        duration_ms=42,
        request_url=claimed.configuration.url if claimed.configuration else "",
        request_headers={"Content-Type": "application/json", "X-HOTMART-HOTTOK": "abcd…wxyz"},
        request_body_sha256=hashlib.sha256(claimed.payload.encode()).hexdigest(),
        response_status=status,
        response_headers={"Content-Type": "text/plain"} if status != -1 else {},
        response_body=body,
        response_body_truncated=False,
        error_kind=error_kind or ("" if ok else ErrorKind.HTTP_STATUS),
        error_message=error_message,
    )
    record = claims.Record(notification.pk, token, attempt, transition)
    assert claims.attempts_record(records=[record], now=now) == {notification.pk}
