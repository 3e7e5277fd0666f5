"""The transport against real sockets on 127.0.0.1: how each failure is classified; Retry-After; masking."""

import socket
import ssl
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.http import http_date

from engine import transport
from engine.transport import Limits, parse_retry_after, post
from history.choices import ErrorKind
from tests import hostile
from tests.conftest import free_port

LIMITS = Limits(connect_timeout=1, read_timeout=1, total_timeout=3, max_response_bytes=1024)


def answer_200(conn, server):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


def test_a_refused_connection_is_classified_as_refused_not_as_a_timeout():
    result = post(url=f"http://127.0.0.1:{free_port()}/", body=b"{}", headers={}, limits=LIMITS)
    assert (result.status_code, result.error_kind) == (-1, ErrorKind.CONNECTION_REFUSED)


def test_a_name_that_does_not_resolve(monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(transport, "_getaddrinfo", no_such_host)
    result = post(url="http://receiver.invalid/hook", body=b"{}", headers={}, limits=LIMITS)
    assert (result.status_code, result.error_kind) == (-1, ErrorKind.DNS)


def test_a_connection_that_takes_too_long_is_a_connect_timeout(monkeypatch):
    def slow_resolver(host, port, *args):  # the connect stage includes resolving the name
        time.sleep(2)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(transport, "_getaddrinfo", slow_resolver)
    result = post(url=f"http://slow.example:{free_port()}/", body=b"{}", headers={}, limits=LIMITS)
    assert (result.status_code, result.error_kind) == (-1, ErrorKind.CONNECT_TIMEOUT)


def test_tls_to_a_server_that_speaks_plain_http_is_a_tls_error():
    server = hostile.HostileServer(answer_200, read=False)  # answers the TLS greeting in plain HTTP
    try:
        result = post(url=f"https://127.0.0.1:{server.port}/", body=b"{}", headers={}, limits=LIMITS)
    finally:
        server.stop()
    assert (result.status_code, result.error_kind) == (-1, ErrorKind.TLS), result.error_message


def test_an_unverifiable_certificate_is_a_tls_error(tmp_path):
    """A self-signed certificate: the handshake completes on the server's side, the client refuses it."""
    import subprocess

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
         "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def tls_200(conn, server):
        try:
            with context.wrap_socket(conn, server_side=True) as wrapped:
                answer_200(wrapped, server)
        except (ssl.SSLError, OSError):
            pass  # the client hangs up on the certificate

    server = hostile.HostileServer(tls_200, read=False)
    try:
        result = post(url=f"https://127.0.0.1:{server.port}/", body=b"{}", headers={}, limits=LIMITS)
    finally:
        server.stop()
    assert (result.status_code, result.error_kind) == (-1, ErrorKind.TLS), result.error_message
    assert "certificate" in result.error_message


def test_an_invalid_url_is_a_connection_error_saying_so():
    result = post(url="http://exa mple.com:99999/", body=b"{}", headers={}, limits=LIMITS)
    assert (result.status_code, result.error_kind) == (-1, ErrorKind.CONNECTION_ERROR)
    assert result.error_message.startswith("invalid URL")


def test_retry_after_in_seconds_or_as_a_date():
    assert parse_retry_after("120") == 120
    in_a_minute = http_date((timezone.now() + timedelta(seconds=60)).timestamp())
    assert 55 <= parse_retry_after(in_a_minute) <= 61
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(("status", "expected"), [(429, 120.0), (503, 120.0), (500, None)])
def test_retry_after_is_read_from_a_429_or_a_503(status, expected):
    def answer(conn, server):
        conn.sendall(b"HTTP/1.1 %d Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % status)

    server = hostile.HostileServer(answer)
    try:
        result = post(url=server.url(), body=b"{}", headers={}, limits=LIMITS)
    finally:
        server.stop()
    assert (result.status_code, result.retry_after) == (status, expected)




@pytest.mark.parametrize("value", [b"\xc2\xb2", b"\xd9\xa3", b"\xff\xfe"])
def test_a_retry_after_of_digits_that_are_not_ascii_is_ignored_not_an_error(value):
    """``"²".isdigit()`` is true and ``float("²")`` raises: a hostile receiver's header must not break the POST."""

    def answer(conn, server):
        head = b"HTTP/1.1 503 Busy\r\nRetry-After: " + value + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        conn.sendall(head)

    server = hostile.HostileServer(answer)
    try:
        result = post(url=server.url(), body=b"{}", headers={}, limits=LIMITS)
    finally:
        server.stop()
    assert (result.status_code, result.retry_after) == (503, None)
