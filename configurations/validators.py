"""Validation of receiver URLs when a configuration is saved."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from core.addresses import AddressPolicy, configured_policy, ip_literal

MAX_URL_LENGTH = 2000
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


def validate_target_url(url: str, *, policy: AddressPolicy | None = None) -> str:
    """Return the URL stripped, or raise ValidationError saying what is wrong with it.

    Any well-formed http(s) URL passes the syntax checks; then its host is judged by the address ``policy``
    (this installation's by default, ``core.addresses``), the rule the transport applies again at connect time:
    sandbox mode allows every address, production mode public ones and ``DISPATCHER_ALLOWED_NETWORKS``.
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
    address = ip_literal(host)
    if address is None and not _valid_hostname(host):
        raise ValidationError(f"{host!r} is not a valid host name.", code="host")
    if isinstance(address, ipaddress.IPv4Address) and host != str(address):
        # 127.1, 2130706433, 0x7f000001: resolvers read them as addresses, HTTP clients refuse or misread them.
        raise ValidationError(f"Write the IP address {host!r} in the usual dotted form: {address}.", code="host")
    if (policy or configured_policy()).refusal(host):
        raise ValidationError(
            "In production mode the URL must point to a public address, not a loopback, private, link-local or "
            "reserved one (unless its network is in DISPATCHER_ALLOWED_NETWORKS).",
            code="private_address",
        )
    return url


def receiver_url_validator(url: str) -> None:
    """``validate_target_url`` with this installation's address policy, as a field validator (serializers)."""
    validate_target_url(url)


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
