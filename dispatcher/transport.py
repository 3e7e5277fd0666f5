"""The HTTP transport: one POST, bounded in time and size, described by a small result object.

It has no side effect beyond the request itself: it never raises for an HTTP or network error, never follows
a redirect, never touches the database. Connections are kept alive per thread and per host.
"""

from __future__ import annotations

import email.utils
import http.client
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import certifi
import requests
import urllib3
from django.utils import timezone
from requests.adapters import HTTPAdapter

from dispatcher.conf import USER_AGENT
from dispatcher.logging import mask_secret
from history.choices import NO_STATUS, ErrorKind

HOTTOK_HEADER = "X-HOTMART-HOTTOK"
DELIVERY_HEADER = "X-Dispatcher-Delivery-Id"
ATTEMPT_HEADER = "X-Dispatcher-Attempt"
EVENT_HEADER = "X-Dispatcher-Event-Id"
SECRET_HEADERS = frozenset({HOTTOK_HEADER.lower(), "authorization"})
_CHUNK = 16 * 1024


@dataclass(frozen=True)
class Limits:
    connect_timeout: float
    read_timeout: float
    total_timeout: float
    max_response_bytes: int


@dataclass(frozen=True)
class TransportResult:
    status_code: int  # NO_STATUS (-1) when no HTTP answer came
    started_at: datetime
    duration_ms: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False
    error_kind: str = ErrorKind.NONE
    error_message: str = ""
    retry_after: float | None = None  # seconds, from a Retry-After header

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status_code < 300


def build_headers(*, hottok: str, content_type: str, delivery_id: int, attempt: int, event_id: str) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        HOTTOK_HEADER: hottok,
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
        "Accept-Encoding": "identity",
        DELIVERY_HEADER: str(delivery_id),
        ATTEMPT_HEADER: str(attempt),
        EVENT_HEADER: event_id,
    }


def masked_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers as they may be stored and shown: secrets reduced to their first and last characters."""
    return {k: (mask_secret(v) if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


class _KeepAliveAdapter(HTTPAdapter):
    """Shares one TLS context: requests would otherwise reload the CA bundle for every new connection."""

    def __init__(self, ssl_context: ssl.SSLContext, **kwargs):
        self._ssl_context = ssl_context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(*args, **kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        pool_kwargs.pop("ca_certs", None)
        pool_kwargs.pop("ca_cert_dir", None)
        pool_kwargs["ssl_context"] = self._ssl_context
        return host_params, pool_kwargs

    def cert_verify(self, conn, url, verify, cert):
        # The shared context already holds the CA certificates and requires a valid certificate.
        conn.cert_reqs = "CERT_REQUIRED"


_ssl_context: ssl.SSLContext | None = None
_ssl_lock = threading.Lock()
_local = threading.local()


def _shared_ssl_context() -> ssl.SSLContext:
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = ssl.create_default_context(cafile=os.environ.get("DISPATCHER_CA_BUNDLE") or certifi.where())
        return _ssl_context


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.trust_env = False  # no proxies or CA bundles from the environment: we talk to the target only
        adapter = _KeepAliveAdapter(_shared_ssl_context(), pool_connections=32, pool_maxsize=4, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _local.session = session
    return session


def post(*, url: str, body: bytes, headers: dict[str, str], limits: Limits) -> TransportResult:
    """POST ``body`` to ``url``; whatever happens, return what happened."""
    started_at = timezone.now()
    t0 = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - t0) * 1000)

    try:
        response = _session().post(
            url,
            data=body,
            headers=headers,
            timeout=(limits.connect_timeout, limits.read_timeout),
            allow_redirects=False,
            stream=True,
        )
    except Exception as exc:  # noqa: BLE001 - every failure becomes a recorded attempt
        kind, message = classify_exception(exc)
        return TransportResult(NO_STATUS, started_at, elapsed_ms(), error_kind=kind, error_message=message)

    try:
        content, truncated, read_error = _read_capped(
            response, limit=limits.max_response_bytes, deadline=t0 + limits.total_timeout
        )
    finally:
        response.close()
    status = response.status_code
    kind, message = read_error if read_error else (ErrorKind.NONE, "")
    if not kind and not 200 <= status < 300:
        if 300 <= status < 400:
            location = response.headers.get("Location", "")
            kind, message = ErrorKind.REDIRECT, f"redirect to {location or '(no Location)'} not followed"
        else:
            kind, message = ErrorKind.HTTP_STATUS, f"HTTP {status} {response.reason or ''}".strip()
    return TransportResult(
        status_code=status,
        started_at=started_at,
        duration_ms=elapsed_ms(),
        headers={k: v for k, v in response.headers.items()},
        body=content,
        truncated=truncated,
        error_kind=kind,
        error_message=message,
        retry_after=parse_retry_after(response.headers.get("Retry-After")) if status in (429, 503) else None,
    )


def _read_capped(response: requests.Response, *, limit: int, deadline: float):
    """Read at most ``limit`` bytes of the body before ``deadline``; the rest is never downloaded."""
    chunks: list[bytes] = []
    size = 0
    raw = response.raw
    try:
        while size <= limit:
            if time.monotonic() > deadline:
                return (
                    b"".join(chunks)[:limit],
                    True,
                    (ErrorKind.TOTAL_TIMEOUT, "response body still arriving at the time limit"),
                )
            # read1 returns what one read of the socket gives, so a drip-feeding server cannot hold us in here.
            chunk = raw.read1(_CHUNK, decode_content=False)
            if not chunk:
                return b"".join(chunks), False, None
            chunks.append(chunk)
            size += len(chunk)
    except Exception as exc:  # noqa: BLE001
        return b"".join(chunks)[:limit], False, classify_exception(exc)
    return b"".join(chunks)[:limit], True, None


def classify_exception(exc: BaseException) -> tuple[str, str]:
    """Map a requests/urllib3/socket exception to an error kind and a one-line message."""
    chain = _causes(exc)
    text = str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__

    def has(*types: type) -> bool:
        return any(isinstance(e, types) for e in chain)

    if has(urllib3.exceptions.NameResolutionError, socket.gaierror):
        return ErrorKind.DNS, "host name does not resolve"
    if has(ConnectionRefusedError):
        return ErrorKind.CONNECTION_REFUSED, "connection refused"
    # urllib3's NewConnectionError subclasses ConnectTimeoutError for old reasons: it is not a timeout.
    if any(
        isinstance(e, requests.exceptions.ConnectTimeout | urllib3.exceptions.ConnectTimeoutError)
        and not isinstance(e, urllib3.exceptions.NewConnectionError)
        for e in chain
    ):
        return ErrorKind.CONNECT_TIMEOUT, "timed out connecting"
    if has(requests.exceptions.SSLError, ssl.SSLError, urllib3.exceptions.SSLError):
        return ErrorKind.TLS, f"TLS error: {text}"
    if has(requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError, socket.timeout):
        return ErrorKind.READ_TIMEOUT, "timed out waiting for the response"
    if has(http.client.RemoteDisconnected):
        return ErrorKind.CONNECTION_ERROR, "the server closed the connection without answering"
    if has(ConnectionResetError):
        return ErrorKind.CONNECTION_ERROR, "the connection was reset"
    if has(http.client.HTTPException, urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError):
        return ErrorKind.INVALID_RESPONSE, f"invalid HTTP response: {text}"
    if has(requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
        return ErrorKind.CONNECTION_ERROR, f"invalid URL: {text}"
    return ErrorKind.CONNECTION_ERROR, text


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    stack = [exc]
    while stack and len(seen) < 20:
        current = stack.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        stack.extend(
            [
                current.__cause__,
                current.__context__,
                *[a for a in getattr(current, "args", ()) if isinstance(a, BaseException)],
            ]
        )
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return seen


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - timezone.now()).total_seconds())
