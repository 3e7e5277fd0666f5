"""Validation of receiver URLs when a configuration is saved."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

MAX_URL_LENGTH = 2000
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


def validate_target_url(url: str, *, production: bool) -> str:
    """Return the URL stripped, or raise ValidationError saying what is wrong with it.

    Sandbox mode accepts any well-formed http(s) URL, loopback and private hosts included, since receivers
    under test run on the developer's machine. Production mode also refuses literal loopback, private,
    link-local and metadata addresses here; hostnames are checked again at connect time.
    """
    url = (url or "").strip()
    if not url:
        raise ValidationError("Enter the URL that should receive the notifications.", code="required")
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(f"The URL is longer than {MAX_URL_LENGTH} characters.", code="max_length")
    if any(ch.isspace() for ch in url):
        raise ValidationError("The URL contains spaces; encode them as %20.", code="invalid")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in url):
        raise ValidationError("The URL contains control or invisible characters; type it again.", code="invalid")
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"}:
        raise ValidationError("The URL must start with http:// or https://.", code="scheme")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "The URL must not contain a user name or password; check the X-HOTMART-HOTTOK header instead.",
            code="credentials",
        )
    if parts.fragment:
        raise ValidationError("The URL must not contain a #fragment; it is never sent to a server.", code="fragment")
    host = parts.hostname
    if not host:
        raise ValidationError("The URL has no host name, e.g. https://example.com/webhook.", code="host")
    try:
        port = parts.port
    except ValueError:
        raise ValidationError("The URL's port is not a number between 1 and 65535.", code="port") from None
    if port == 0:
        raise ValidationError("The URL's port is not a number between 1 and 65535.", code="port")
    address = _ip_literal(host)
    if address is None and not _valid_hostname(host):
        raise ValidationError(f"{host!r} is not a valid host name.", code="host")
    if production:
        if host.rstrip(".").lower() == "localhost" or (address is not None and not address.is_global):
            raise ValidationError(
                "In production mode the URL must point to a public address, not a loopback, private, "
                "link-local or reserved one.",
                code="private_address",
            )
    return url


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _valid_hostname(host: str) -> bool:
    try:
        ascii_host = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return False
    if not ascii_host or len(ascii_host) > 253:
        return False
    labels = ascii_host.split(".")
    # An all-numeric last label would be an IP address in disguise (e.g. 127.1): refuse it here.
    if labels[-1].isdigit():
        return False
    return all(_LABEL.match(label) for label in labels)
