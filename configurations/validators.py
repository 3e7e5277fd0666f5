"""Validation of receiver URLs when a configuration is saved."""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from urllib.parse import urlsplit

from django.conf import settings
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
    address = ip_literal(host)
    if address is None and not _valid_hostname(host):
        raise ValidationError(f"{host!r} is not a valid host name.", code="host")
    if production:
        # The rule the transport applies at connect time, to the same address however it is spelled.
        if host.rstrip(".").lower() == "localhost" or (address is not None and not is_public_address(address)):
            raise ValidationError(
                "In production mode the URL must point to a public address, not a loopback, private, "
                "link-local or reserved one.",
                code="private_address",
            )
    return url


def receiver_url_validator(url: str) -> None:
    """``validate_target_url`` in this installation's mode, as a field validator (serializers, forms)."""
    validate_target_url(url, production=settings.DISPATCHER_MODE == "production")


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_INET_ATON = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


def ip_literal(host: str) -> Address | None:
    """The address a host name spells literally, in any spelling a resolver accepts, or None for a name.

    Besides the usual forms, the C resolver reads ``0x7f000001``, ``2130706433``, ``0177.0.0.1`` and
    ``127.1`` as 127.0.0.1 (inet_aton's forms): each is judged as that address, not as a name.
    """
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    if _INET_ATON.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_public_address(address: Address) -> bool:
    """Not loopback, private, link-local (cloud metadata), multicast, reserved or unspecified; an IPv4
    address inside IPv6 (mapped, ``::ffff:a.b.c.d``, or NAT64, ``64:ff9b::a.b.c.d``) is judged as itself.

    The one rule for production targets: at save for literal addresses, at connect time for every address a
    name resolves to.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or _nat64_embedded(address)
        if embedded is not None:
            return is_public_address(embedded)
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    ):
        return False
    return address.is_global


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _nat64_embedded(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
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
