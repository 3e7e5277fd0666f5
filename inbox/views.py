"""The catching view: every request to ``/inbox/<token>/`` (any method, any sub-path) is recorded, then
answered with the status, body and delay its owner chose."""

from __future__ import annotations

import time

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.proxies import client_address
from inbox.conf import inbox_settings
from inbox.ratelimit import inbox_rate_check
from inbox.services import CaughtRequest, inbox_catch


@csrf_exempt
def catch(request: HttpRequest, token: str, rest: str = "") -> HttpResponse:
    conf = inbox_settings()
    if not conf.enabled:
        return JsonResponse({"error": "The inbox is turned off on this server (INBOX_ENABLED)."}, status=404)
    retry_after = inbox_rate_check(token)
    if retry_after is not None:
        response = JsonResponse(
            {"error": f"Too many requests to this inbox: at most {conf.rate_limit} per {conf.rate_window:g} s."},
            status=429,
        )
        response["Retry-After"] = str(int(retry_after + 0.999))
        return response
    answer = inbox_catch(token=token, request=_read(request, conf.max_body_bytes, rest))
    if answer is None:
        return JsonResponse({"error": "No such inbox."}, status=404)
    if answer.delay_ms:
        time.sleep(answer.delay_ms / 1000)  # the inbox hangs on purpose: its owner asked for a slow receiver
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    response["X-Inbox-Request"] = str(answer.number)
    return response


def _read(request: HttpRequest, limit: int, rest: str) -> CaughtRequest:
    """The request as sent: the body read from the stream up to ``limit`` bytes (never all of a huge one)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    body = request.read(limit + 1) if declared or request.META.get("HTTP_TRANSFER_ENCODING") else b""
    size = max(declared, len(body))
    query = request.META.get("QUERY_STRING", "")
    path = "/" + rest + (f"?{query}" if query else "")
    return CaughtRequest(
        method=request.method or "GET",
        path=path.replace("\x00", "%00"),  # kept as it was sent: no database column takes a NUL
        headers={name: value.replace("\x00", "\\x00") for name, value in request.headers.items()},
        body=body[:limit],
        body_size=size,
        body_truncated=size > limit,
        remote_addr=client_address(request),
    )
