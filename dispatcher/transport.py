"""The HTTP transport: one POST, bounded in time and size, described by a small result object.

It has no side effect beyond the request itself: it never raises for an HTTP or network error, never follows
a redirect, never touches the database. Connections are kept alive per thread and per host.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import heapq
import hmac
import http.client
import ipaddress
import itertools
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import certifi
import requests
import urllib3
from django.utils import timezone
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from configurations.validators import is_public_address
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
class AddressPolicy:
    """Which addresses a POST may connect to. Sandbox: any. Production: public ones only, unless allowed."""

    public_only: bool = False
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def allows(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if not self.public_only or any(address in network for network in self.allowed_networks):
            return True
        return is_public_address(address)


def parse_networks(values: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


SANDBOX_POLICY = AddressPolicy()


@dataclass(frozen=True)
class Limits:
    connect_timeout: float
    read_timeout: float
    total_timeout: float
    max_response_bytes: int
    addresses: AddressPolicy = SANDBOX_POLICY


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


def sign(*, secrets: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Standard Webhooks signature headers: one ``v1,<base64 HMAC-SHA256>`` per secret, space-separated."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    signatures = []
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        digest = hmac.new(key, signed, hashlib.sha256).digest()
        signatures.append("v1," + base64.b64encode(digest).decode())
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": " ".join(signatures)}


def masked_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers as they may be stored and shown: secrets reduced to their first and last characters."""
    return {k: (mask_secret(v) if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


class BlockedAddress(OSError):
    """The target resolves only to addresses this mode does not allow (production: private ones)."""


class _Watchdog:
    """Ends a POST that is still going at its deadline, whatever it is waiting for.

    Per-read timeouts cannot stop a server that drips one byte every second; so when the deadline passes,
    the POST's socket is shut down, which wakes the blocked read at once.
    """

    def __init__(self) -> None:
        self.fired = False
        self.done = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def finish(self) -> None:
        with self._lock:
            self.done = True
            self._sock = None

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                _shutdown(sock)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            _shutdown(self._sock)


def _shutdown(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _Deadlines:
    """One thread for every watchdog of the process: a heap of deadlines, not a timer thread per POST."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watchdog]] = []
        self._counter = itertools.count()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, deadline: float, dog: _Watchdog) -> None:
        with self._cv:
            heapq.heappush(self._heap, (deadline, next(self._counter), dog))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="delivery-deadlines", daemon=True)
                self._thread.start()
            self._cv.notify()

    def _run(self) -> None:
        with self._cv:
            while True:
                if not self._heap:
                    self._cv.wait()
                    continue
                deadline, _, dog = self._heap[0]
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    self._cv.wait(remaining)
                    continue
                heapq.heappop(self._heap)
                if not dog.done:
                    dog.fire()


_deadlines = _Deadlines()
_local = threading.local()  # this thread's POST in progress: its watchdog and address policy


class HeadersCut(http.client.HTTPException):
    """The answer ended before the blank line that closes its headers: whatever was parsed is not an answer."""


class _HeaderEndWatch:
    """Reads lines for http.client while it parses the head, remembering the last one: http.client takes the
    end of the stream for the end of the headers, so the caller tells a cut head from a complete one."""

    def __init__(self, fp):
        self.fp = fp
        self.last = b""

    def readline(self, limit=-1):
        self.last = self.fp.readline(limit)
        return self.last

    def __getattr__(self, name):
        return getattr(self.fp, name)


class _StrictHTTPResponse(http.client.HTTPResponse):
    def begin(self):
        if self.headers is not None:  # begun already
            return
        watch = _HeaderEndWatch(self.fp)
        self.fp = watch
        try:
            super().begin()
        finally:
            self.fp = watch.fp if self.fp is watch else self.fp
        if watch.last not in (b"\r\n", b"\n"):
            raise HeadersCut("the connection closed before the headers were complete")


class _GuardedConnectionMixin:
    """Connects only to allowed addresses, pinned to the one checked, and lets the watchdog see the socket;
    an answer cut inside its headers is refused (``HeadersCut``)."""

    response_class = _StrictHTTPResponse

    def _new_conn(self) -> socket.socket:
        policy: AddressPolicy = getattr(_local, "policy", SANDBOX_POLICY)
        if not policy.public_only:
            sock = super()._new_conn()
        else:
            sock = self._new_pinned_conn(policy)
        dog = getattr(_local, "watchdog", None)
        if dog is not None:
            dog.watch(sock)
        return sock

    def _new_pinned_conn(self, policy: AddressPolicy) -> socket.socket:
        # Resolve once, check, and connect to exactly the address checked: a second lookup (DNS rebinding)
        # never happens.
        try:
            infos = _getaddrinfo(self._dns_host, self.port, 0, socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise urllib3.exceptions.NameResolutionError(self.host, self, exc) from exc
        allowed = [info for info in infos if policy.allows(ipaddress.ip_address(info[4][0].split("%")[0]))]
        if not allowed:
            seen = ", ".join(sorted({info[4][0] for info in infos}))
            raise BlockedAddress(f"{self.host} resolves to {seen}: not a public address")
        family, kind, proto, _, sockaddr = allowed[0]
        sock = socket.socket(family, kind, proto)
        try:
            for option in self.socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(self.timeout)
            sock.connect(sockaddr)
        except TimeoutError as exc:
            sock.close()
            raise urllib3.exceptions.ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
        except OSError as exc:
            sock.close()
            raise urllib3.exceptions.NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc
        return sock

    def getresponse(self, *args, **kwargs):
        dog = getattr(_local, "watchdog", None)
        if dog is not None:
            dog.watch(self.sock)  # a kept-alive connection was made by an earlier POST
        return super().getresponse(*args, **kwargs)


_getaddrinfo = socket.getaddrinfo  # the resolver; tests stand in a rebinding DNS here


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


_ssl_context: ssl.SSLContext | None = None
_ssl_lock = threading.Lock()


def _shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every connection: loading the CA bundle per connection costs more than the POST."""
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = ssl.create_default_context(cafile=os.environ.get("DISPATCHER_CA_BUNDLE") or certifi.where())
        return _ssl_context


def _pool_manager() -> urllib3.PoolManager:
    """This thread's connections, kept alive per host, made by the guarded connection classes."""
    manager = getattr(_local, "pool_manager", None)
    if manager is None:
        manager = urllib3.PoolManager(
            num_pools=32, maxsize=4, retries=False, ssl_context=_shared_ssl_context(), cert_reqs="CERT_REQUIRED"
        )
        manager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
        _local.pool_manager = manager
    return manager


def post(*, url: str, body: bytes, headers: dict[str, str], limits: Limits) -> TransportResult:
    """POST ``body`` to ``url``; whatever happens, return what happened, within ``limits.total_timeout``."""
    started_at = timezone.now()
    t0 = time.monotonic()
    dog = _Watchdog()
    _deadlines.add(t0 + limits.total_timeout, dog)
    _local.watchdog, _local.policy = dog, limits.addresses
    try:
        return _post(url=url, body=body, headers=headers, limits=limits, started_at=started_at, t0=t0, dog=dog)
    finally:
        dog.finish()
        _local.watchdog = None
        if dog.fired:
            # The socket we shut down must not go back to the keep-alive pool.
            _pool_manager().clear()


def _post(*, url, body, headers, limits: Limits, started_at: datetime, t0: float, dog: _Watchdog) -> TransportResult:
    def elapsed_ms() -> int:
        return int((time.monotonic() - t0) * 1000)

    too_slow = (ErrorKind.TOTAL_TIMEOUT, f"no complete answer within {limits.total_timeout:g} s")
    try:
        response = _pool_manager().request(
            "POST",
            url,
            body=body,
            headers=headers,
            timeout=urllib3.Timeout(connect=limits.connect_timeout, read=limits.read_timeout),
            redirect=False,
            retries=False,
            preload_content=False,
        )
    except Exception as exc:  # noqa: BLE001 - every failure becomes a recorded attempt
        kind, message = too_slow if dog.fired else classify_exception(exc)
        return TransportResult(NO_STATUS, started_at, elapsed_ms(), error_kind=kind, error_message=message)
    if dog.fired:
        # The deadline cut the headers short: what was parsed is not an answer.
        response.close()
        return TransportResult(NO_STATUS, started_at, elapsed_ms(), error_kind=too_slow[0], error_message=too_slow[1])

    content, truncated, read_error = b"", False, None
    try:
        content, truncated, read_error = _read_capped(
            response, limit=limits.max_response_bytes, deadline=t0 + limits.total_timeout
        )
    finally:
        if truncated or read_error or dog.fired:
            response.close()  # the rest is never downloaded, so the connection cannot be reused
        else:
            response.release_conn()  # read to its end: kept alive for the next POST to this host
    if dog.fired:
        truncated, read_error = True, too_slow
    status = response.status
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
        headers=dict(response.headers.items()),
        body=content,
        truncated=truncated,
        error_kind=kind,
        error_message=message,
        retry_after=parse_retry_after(response.headers.get("Retry-After")) if status in (429, 503) else None,
    )


def _read_capped(response: urllib3.BaseHTTPResponse, *, limit: int, deadline: float):
    """Read at most ``limit`` bytes of the body before ``deadline``; the rest is never downloaded."""
    chunks: list[bytes] = []
    size = 0
    raw = response
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

    blocked = next((e for e in chain if isinstance(e, BlockedAddress)), None)
    if blocked is not None:
        return ErrorKind.BLOCKED_ADDRESS, str(blocked)
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
    cut = next((e for e in chain if isinstance(e, HeadersCut)), None)
    if cut is not None:
        return ErrorKind.INVALID_RESPONSE, f"invalid HTTP response: {cut}"
    if has(http.client.RemoteDisconnected):
        return ErrorKind.CONNECTION_ERROR, "the server closed the connection without answering"
    if has(ConnectionResetError):
        return ErrorKind.CONNECTION_ERROR, "the connection was reset"
    if has(http.client.HTTPException, urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError):
        return ErrorKind.INVALID_RESPONSE, f"invalid HTTP response: {text}"
    if has(
        requests.exceptions.InvalidURL,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidSchema,
        urllib3.exceptions.LocationValueError,
        urllib3.exceptions.URLSchemeUnknown,
    ):
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
