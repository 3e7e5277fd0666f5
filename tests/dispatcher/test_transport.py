"""The transport's parts that need no receiver: error classification, Retry-After, header masking."""

import socket
from datetime import timedelta

import pytest
import requests
import urllib3
from django.utils import timezone
from django.utils.http import http_date

from dispatcher.transport import Limits, classify_exception, masked_headers, parse_retry_after, post
from history.choices import ErrorKind
from tests.conftest import free_port


def wrapped(inner: BaseException) -> requests.exceptions.ConnectionError:
    """What requests raises: its own error around urllib3's MaxRetryError around the real cause."""
    retry_error = urllib3.exceptions.MaxRetryError(None, "http://x/", reason=inner)
    return requests.exceptions.ConnectionError(retry_error)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (
            wrapped(urllib3.exceptions.NewConnectionError(None, "[Errno 111] Connection refused")),
            ErrorKind.CONNECTION_ERROR,
        ),
        (
            wrapped(
                urllib3.exceptions.NameResolutionError(
                    "x.invalid", None, socket.gaierror(-2, "Name or service not known")
                )
            ),
            ErrorKind.DNS,
        ),
        (
            requests.exceptions.ConnectTimeout(urllib3.exceptions.ConnectTimeoutError(None, "timed out")),
            ErrorKind.CONNECT_TIMEOUT,
        ),
        (requests.exceptions.ReadTimeout("read timed out"), ErrorKind.READ_TIMEOUT),
        (requests.exceptions.SSLError("certificate verify failed"), ErrorKind.TLS),
        (ConnectionResetError(104, "Connection reset by peer"), ErrorKind.CONNECTION_ERROR),
        (requests.exceptions.InvalidURL("bad"), ErrorKind.CONNECTION_ERROR),
    ],
)
def test_classify_exception(exc, kind):
    assert classify_exception(exc)[0] == kind


def test_a_refused_connection_is_classified_as_refused_not_as_a_timeout():
    # urllib3's NewConnectionError subclasses ConnectTimeoutError; the real cause must win.
    result = post(url=f"http://127.0.0.1:{free_port()}/", body=b"{}", headers={}, limits=Limits(2, 2, 5, 1024))
    assert result.status_code == -1
    assert result.error_kind == ErrorKind.CONNECTION_REFUSED


def test_retry_after_in_seconds_or_as_a_date():
    assert parse_retry_after("120") == 120
    in_a_minute = http_date((timezone.now() + timedelta(seconds=60)).timestamp())
    assert 55 <= parse_retry_after(in_a_minute) <= 61
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_secret_headers_are_masked_for_storage():
    headers = {"X-HOTMART-HOTTOK": "abcdefghijklmnopqrstuvwxyz", "Content-Type": "application/json"}
    assert masked_headers(headers) == {"X-HOTMART-HOTTOK": "abcd…wxyz", "Content-Type": "application/json"}
