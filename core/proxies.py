"""The address a request really comes from, behind the reverse proxies this installation trusts.

Behind a proxy every request connects from the proxy's address; the proxy names the client in
``X-Forwarded-For``, appending the address that connected to it. That header is believed only when the request
comes from one of ``TRUSTED_PROXIES`` (addresses or networks), and then read from the right: the first address
that is not a trusted proxy is the client. Anyone else's ``X-Forwarded-For`` is whatever they chose to write, so
it is ignored. Throttles (the token endpoint, the login lockout) and the inbox's records use this address.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

from core.addresses import Address, Network, parse_networks


@lru_cache(maxsize=4)
def _trusted(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(values)


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]").split("%")[0])
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or, for a request from a trusted proxy, the nearest address in
    ``X-Forwarded-For`` that is not a trusted proxy. (Django-axes calls it too: ``AXES_CLIENT_IP_CALLABLE``.)"""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = _trusted(tuple(settings.TRUSTED_PROXIES))
    address = _address(remote)
    if not trusted or address is None or not any(address in network for network in trusted):
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        hop_address = _address(hop)
        if hop_address is None:
            break  # not written by a proxy of ours: stop at the last address we can vouch for
        address = hop_address
        if not any(address in network for network in trusted):
            break
    return str(address)
