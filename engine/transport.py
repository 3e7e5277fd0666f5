"""The HTTP transport: one POST, bounded in time and size, described by a small result object.

It has no side effect beyond the request itself: it never raises for an HTTP or network error, never follows
a redirect, never decompresses, never touches the database. It is asynchronous (aiohttp), so one worker
process keeps hundreds of POSTs in flight on one thread; ``Client`` holds the keep-alive connections, pooled
per host. ``post`` is the same POST for synchronous callers (tests, the command line).

Why aiohttp and not httpx: its C HTTP parser and connection pool cost a fraction of the CPU per request
(docs/architecture.md has the numbers), and its resolver is pluggable, which is where the production address
guard lives: every address a name resolves to is checked, and the connection goes to exactly those addresses.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import os
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import aiohttp
import certifi
from aiohttp import http_exceptions
from aiohttp.abc import AbstractResolver, ResolveResult
from django.utils import timezone

from core.addresses import SANDBOX_POLICY, AddressPolicy
from history.choices import NO_STATUS, ErrorKind

_CHUNK = 16 * 1024
# Idle keep-alive connections are closed after this long: below the keep-alive timeout of most servers, so
# a POST rarely meets a connection the receiver has just closed.
KEEPALIVE_SECONDS = 4.0


def policy_for(conf) -> AddressPolicy:
    """The address policy (``core.addresses``, the rule URLs are saved by too) of these ``DispatcherSettings``:
    production allows public addresses only, and the networks its operator allowed."""
    return AddressPolicy.of(production=not conf.sandbox, allowed_networks=conf.allowed_networks)


@dataclass(frozen=True)
class Limits:
    connect_timeout: float
    read_timeout: float  # between two reads of the answer
    total_timeout: float  # the whole POST, from the start, however slowly the answer drips
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




class BlockedAddress(OSError):
    """The target resolves only to addresses this mode does not allow (production: private ones)."""


def _getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - socket's own names
    """The resolver's lookup; tests stand in a rebinding DNS here."""
    return socket.getaddrinfo(host, port, family, type, proto, flags)


class GuardedResolver(AbstractResolver):
    """Resolves a name once, in a thread, and answers only the addresses the policy allows: the connection is
    made to exactly those (a second lookup, DNS rebinding, never happens). None allowed: ``BlockedAddress``."""

    def __init__(self, policy: AddressPolicy):
        self.policy = policy

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
        loop = asyncio.get_running_loop()
        infos = await loop.run_in_executor(None, _getaddrinfo, host, port, family, socket.SOCK_STREAM)
        results: list[ResolveResult] = []
        seen: list[str] = []
        for info_family, _, proto, _, sockaddr in infos:
            address = sockaddr[0].split("%")[0]
            seen.append(address)
            if self.policy.allows(ipaddress.ip_address(address)):
                results.append(
                    ResolveResult(
                        hostname=host,
                        host=sockaddr[0],
                        port=sockaddr[1],
                        family=info_family,
                        proto=proto,
                        flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                    )
                )
        if not results:
            raise BlockedAddress(f"{host} resolves to {', '.join(sorted(set(seen)))}: not a public address")
        return results

    async def close(self) -> None:
        return None


_ssl_context: ssl.SSLContext | None = None
_ssl_lock = threading.Lock()


def _shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every connection: loading the CA bundle per connection costs more than the POST."""
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = ssl.create_default_context(cafile=os.environ.get("DISPATCHER_CA_BUNDLE") or certifi.where())
        return _ssl_context


class Client:
    """A worker's HTTP client: keep-alive connections pooled per host, one event loop, one address policy.

    Create it, and call ``post`` and ``close``, on the loop that uses it. The number of POSTs in flight is the
    caller's to bound (the engine's fair shares); the pool itself sets no limit.
    """

    def __init__(self, policy: AddressPolicy = SANDBOX_POLICY):
        self.policy = policy
        connector = aiohttp.TCPConnector(
            limit=0,
            limit_per_host=0,
            resolver=GuardedResolver(policy),
            ssl=_shared_ssl_context(),
            keepalive_timeout=KEEPALIVE_SECONDS,
            ttl_dns_cache=10,
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,  # bytes as they came: a gzip bomb costs the cap, not a gigabyte
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            timeout=aiohttp.ClientTimeout(total=None),
        )

    async def close(self) -> None:
        await self.session.close()

    async def post(self, *, url: str, body: bytes, headers: dict[str, str], limits: Limits) -> TransportResult:
        """POST ``body`` to ``url``; whatever happens, answer what happened, within ``limits.total_timeout``."""
        started_at = timezone.now()
        t0 = time.monotonic()
        state = _Answer()
        try:
            async with asyncio.timeout(limits.total_timeout):
                blocked = _blocked_literal(url, limits.addresses)
                if blocked:
                    raise BlockedAddress(blocked)
                await self._exchange(state, url=url, body=body, headers=headers, limits=limits)
        except TimeoutError:  # the time limit
            if state.status is None:
                state.error = (ErrorKind.TOTAL_TIMEOUT, f"no complete answer within {limits.total_timeout:g} s")
            else:
                state.truncated = True
                state.error = (ErrorKind.TOTAL_TIMEOUT, "response body still arriving at the time limit")
        except Exception as exc:  # noqa: BLE001 - every failure becomes a recorded attempt
            state.error = classify_exception(exc)
        return state.result(started_at=started_at, duration_ms=int((time.monotonic() - t0) * 1000))

    async def _exchange(self, state: _Answer, *, url: str, body: bytes, headers: dict[str, str], limits: Limits):
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=limits.connect_timeout,
            sock_connect=limits.connect_timeout,
            sock_read=limits.read_timeout,
        )
        try:
            async with self.session.post(
                url, data=body, headers=headers, allow_redirects=False, timeout=timeout
            ) as response:
                state.status = response.status
                state.reason = response.reason or ""
                state.headers = dict(response.headers.items())
                await _read_capped(response, state, limit=limits.max_response_bytes)
        except TimeoutError as exc:  # aiohttp's connect and read timeouts; the time limit cancels instead
            state.error = classify_exception(exc)


class _Answer:
    """What came back so far: a POST cut by the time limit still reports the status and body it got."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.reason = ""
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.truncated = False
        self.error: tuple[str, str] | None = None
        self.limit = 0

    def result(self, *, started_at: datetime, duration_ms: int) -> TransportResult:
        status = NO_STATUS if self.status is None else self.status
        kind, message = self.error or (ErrorKind.NONE, "")
        if self.status is None and not kind:
            kind, message = ErrorKind.CONNECTION_ERROR, "no answer"
        if not kind and not 200 <= status < 300:
            if 300 <= status < 400:
                location = self.headers.get("Location", "")
                kind, message = ErrorKind.REDIRECT, f"redirect to {location or '(no Location)'} not followed"
            else:
                kind, message = ErrorKind.HTTP_STATUS, f"HTTP {status} {self.reason}".strip()
        body = b"".join(self.chunks)
        return TransportResult(
            status_code=status,
            started_at=started_at,
            duration_ms=duration_ms,
            headers=self.headers,
            body=body[: self.limit] if self.limit else body,
            truncated=self.truncated,
            error_kind=kind,
            error_message=message,
            retry_after=parse_retry_after(self.headers.get("Retry-After")) if status in (429, 503) else None,
        )


async def _read_capped(response: aiohttp.ClientResponse, state: _Answer, *, limit: int) -> None:
    """Read at most ``limit`` bytes of the body; the rest is never downloaded (the connection is closed)."""
    state.limit = limit
    size = 0
    try:
        while size <= limit:
            chunk = await response.content.read(_CHUNK)
            if not chunk:
                return
            state.chunks.append(chunk)
            size += len(chunk)
    except Exception as exc:  # noqa: BLE001 - a body cut short or stalled: the status stands, the error says why
        state.error = classify_exception(exc)
        return
    state.truncated = True
    response.close()  # the rest is never read, so the connection cannot be reused


def _blocked_literal(url: str, policy: AddressPolicy) -> str:
    """An IP address written in the URL skips the resolver: the policy is applied to it here, as at save."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return policy.refusal(host)


def post(*, url: str, body: bytes, headers: dict[str, str], limits: Limits) -> TransportResult:
    """``Client.post`` for synchronous callers: a loop and a client of its own, for this one POST."""

    async def once() -> TransportResult:
        client = Client(limits.addresses)
        try:
            return await client.post(url=url, body=body, headers=headers, limits=limits)
        finally:
            await client.close()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(once())
    # Called on a thread whose loop is running (a caller that is itself asynchronous): a thread of its own.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="post") as pool:
        return pool.submit(asyncio.run, once()).result()


def classify_exception(exc: BaseException) -> tuple[str, str]:
    """Map an aiohttp/socket exception to an error kind and a one-line message."""
    chain = _causes(exc)
    text = str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__

    def find(*types: type) -> BaseException | None:
        return next((e for e in chain if isinstance(e, types)), None)

    blocked = find(BlockedAddress)
    if blocked is not None:
        return ErrorKind.BLOCKED_ADDRESS, str(blocked)
    if find(socket.gaierror, aiohttp.ClientConnectorDNSError):
        return ErrorKind.DNS, "host name does not resolve"
    if find(ConnectionRefusedError):
        return ErrorKind.CONNECTION_REFUSED, "connection refused"
    if find(aiohttp.ConnectionTimeoutError):
        return ErrorKind.CONNECT_TIMEOUT, "timed out connecting"
    if find(ssl.SSLError, aiohttp.ClientSSLError):
        return ErrorKind.TLS, f"TLS error: {text}"
    if find(aiohttp.SocketTimeoutError):
        return ErrorKind.READ_TIMEOUT, "timed out waiting for the response"
    disconnected = find(aiohttp.ServerDisconnectedError)
    if disconnected is not None:
        if disconnected.message is not None and not isinstance(disconnected.message, str):
            # A head was being parsed when the connection closed: the answer never completed.
            return ErrorKind.INVALID_RESPONSE, f"invalid HTTP response: {HEADERS_CUT}"
        return ErrorKind.CONNECTION_ERROR, "the server closed the connection without answering"
    if find(ConnectionResetError):
        return ErrorKind.CONNECTION_ERROR, "the connection was reset"
    payload = find(aiohttp.ClientPayloadError)
    if payload is not None:
        reset = find(ConnectionResetError, ConnectionError)
        if reset is not None or "reset" in str(payload).lower():
            return ErrorKind.CONNECTION_ERROR, "the connection was reset"
        return ErrorKind.INVALID_RESPONSE, f"invalid HTTP response: {_first_line(payload)}"
    invalid = find(aiohttp.ClientResponseError, http_exceptions.HttpProcessingError)
    if invalid is not None:
        return ErrorKind.INVALID_RESPONSE, f"invalid HTTP response: {_first_line(invalid)}"
    if find(aiohttp.InvalidURL, ValueError):
        return ErrorKind.CONNECTION_ERROR, f"invalid URL: {text}"
    return ErrorKind.CONNECTION_ERROR, text


HEADERS_CUT = "the connection closed before the headers were complete"


def _first_line(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    text = str(message) if message else str(exc)
    return (text.strip().splitlines() or [type(exc).__name__])[0][:500]


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
                getattr(current, "os_error", None),
                *[a for a in getattr(current, "args", ()) if isinstance(a, BaseException)],
            ]
        )
    return seen


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value) if value.isascii() else None  # "²" is a digit to isdigit, and float("²") raises
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - timezone.now()).total_seconds())
