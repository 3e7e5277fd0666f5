"""Which addresses a receiver may be on: one rule, applied when a URL is saved and when a POST connects.

Sandbox mode allows any address (receivers under test run on the developer's machine). Production mode allows
public addresses only, plus the networks its operator lists in ``DISPATCHER_ALLOWED_NETWORKS`` (say a receiver on
the company's private network). At save, a URL whose host is an address (in any spelling a resolver reads) or
``localhost`` is judged here (``AddressPolicy.refusal``); at send, every address its host resolves to is
(``AddressPolicy.allows``, in the transport's resolver), so a name that later points somewhere else is caught.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_INET_ATON = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# What a resolver answers for localhost (RFC 6761: every name under .localhost too), without asking one.
_LOCALHOST = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


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
    address inside IPv6 (mapped, ``::ffff:a.b.c.d``, or NAT64, ``64:ff9b::a.b.c.d``) is judged as itself."""
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


def _nat64_embedded(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``["10.1.0.0/16", "fd00::/8"]`` as networks; ValueError names a bad one."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses a POST may go to. Sandbox: any. Production: public ones, and the networks allowed."""

    public_only: bool = False
    allowed_networks: tuple[Network, ...] = ()

    @classmethod
    def of(cls, *, production: bool, allowed_networks: Iterable[str] = ()) -> AddressPolicy:
        return cls(public_only=production, allowed_networks=parse_networks(allowed_networks) if production else ())

    def allows(self, address: Address) -> bool:
        """The rule for one address: what the transport's resolver applies to every address a name resolves to."""
        if not self.public_only or any(address in network for network in self.allowed_networks):
            return True
        return is_public_address(address)

    def refusal(self, host: str) -> str:
        """Why a URL's host is refused before any lookup (an address, in any spelling, or localhost), or ``""``
        when it may be saved and tried: a name is judged again by the addresses it resolves to."""
        if not self.public_only:
            return ""
        address = ip_literal(host)
        if address is not None:
            return "" if self.allows(address) else f"{host} is {address}: not a public address"
        name = host.rstrip(".").lower()
        if (name == "localhost" or name.endswith(".localhost")) and not any(map(self.allows, _LOCALHOST)):
            return f"{host} is a loopback address: not a public address"
        return ""


SANDBOX_POLICY = AddressPolicy()


def configured_policy() -> AddressPolicy:
    """This installation's policy: its mode (``DISPATCHER_MODE``) and ``DISPATCHER_ALLOWED_NETWORKS``."""
    conf = settings.DISPATCHER
    return AddressPolicy.of(production=conf["MODE"] == "production", allowed_networks=conf["ALLOWED_NETWORKS"])
