"""Production mode never connects to loopback, private, link-local, multicast or metadata addresses, however
the URL spells them, and connects to exactly the address it checked (no DNS rebinding)."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from configurations.validators import validate_target_url
from core.addresses import AddressPolicy, is_public_address
from dispatcher.settings import DISPATCHER
from engine import transport
from engine.conf import dispatcher_settings
from engine.loop import limits_for
from engine.transport import Limits, post
from history.choices import ErrorKind
from tests import hostile

PRODUCTION = AddressPolicy(public_only=True)


def answer_200(conn, server):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


def limits(policy: AddressPolicy) -> Limits:
    return Limits(connect_timeout=1, read_timeout=1, total_timeout=3, max_response_bytes=1024, addresses=policy)


@pytest.fixture
def loopback_receiver():
    server = hostile.HostileServer(answer_200)
    yield server
    server.stop()


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "2130706433",  # 127.0.0.1 written as one decimal number
        "0x7f000001",  # ... in hexadecimal
        "0177.0.0.1",  # ... with an octal first part
        "127.1",  # ... shortened
        "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    ],
)
def test_loopback_in_any_spelling_is_refused_in_production(host, loopback_receiver):
    url = f"http://{host}:{loopback_receiver.port}/hook"
    result = post(url=url, body=b"{}", headers={}, limits=limits(PRODUCTION))
    assert (result.status_code, result.error_kind) == (-1, ErrorKind.BLOCKED_ADDRESS), result.error_message
    assert "not a public address" in result.error_message
    assert loopback_receiver.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0x7f000001", "[::ffff:127.0.0.1]"])
def test_the_same_loopback_urls_are_fine_in_the_sandbox(host, loopback_receiver):
    url = f"http://{host}:{loopback_receiver.port}/hook"
    allowed = post(url=url, body=b"{}", headers={}, limits=limits(AddressPolicy()))
    assert allowed.status_code == 200, allowed.error_message


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]:9/hook",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[fd00:ec2::254]/",  # AWS metadata over IPv6
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://172.16.5.4/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://224.0.0.1/",  # multicast
        "http://0.0.0.0:9/",
        "http://[64:ff9b::7f00:1]/",  # NAT64 spelling of 127.0.0.1
    ],
)
def test_private_link_local_multicast_and_metadata_addresses_are_refused(url):
    result = post(url=url, body=b"{}", headers={}, limits=limits(PRODUCTION))
    assert result.error_kind == ErrorKind.BLOCKED_ADDRESS, result.error_message


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("::ffff:10.0.0.1", False),
        ("fe80::1", False),
        ("169.254.169.254", False),
        ("255.255.255.255", False),
    ],
)
def test_is_public_address(address, public):
    assert is_public_address(ipaddress.ip_address(address)) is public


SPELLINGS = [
    "127.0.0.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "127.1",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[64:ff9b::7f00:1]",
    "[::1]",
    "169.254.169.254",
    "[64:ff9b::a9fe:a9fe]",
    "10.1.2.3",
    "0x0a010203",
]


@pytest.mark.parametrize("host", SPELLINGS)
def test_a_literal_address_is_judged_alike_when_saved_and_when_sent(host):
    """One address rule for both moments: what the production guard refuses at connect time is refused at save."""
    url = f"http://{host}:9/hook"
    sent = post(url=url, body=b"{}", headers={}, limits=limits(PRODUCTION))
    assert sent.error_kind == ErrorKind.BLOCKED_ADDRESS, sent.error_message
    with pytest.raises(ValidationError) as refused:
        validate_target_url(url, policy=PRODUCTION)
    assert refused.value.code in ("private_address", "host"), "refused as private, or as an address in disguise"


def test_a_name_that_resolves_differently_the_second_time_is_connected_to_the_address_checked(monkeypatch):
    """DNS rebinding: the first answer passes the check, a second lookup would say 127.0.0.1."""
    checked = hostile.HostileServer(answer_200, host="127.0.0.2")
    forbidden = hostile.HostileServer(answer_200, host="127.0.0.1", port=checked.port)
    lookups = []

    def rebinding_dns(host, port, family=0, type=0, proto=0, flags=0):
        lookups.append(host)
        address = "127.0.0.2" if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(transport, "_getaddrinfo", rebinding_dns)
    # 127.0.0.2 stands for a public address here: the operator allowed that one network.
    policy = AddressPolicy(public_only=True, allowed_networks=(ipaddress.ip_network("127.0.0.2/32"),))
    try:
        result = post(url=f"http://rebind.example:{checked.port}/hook", body=b"{}", headers={}, limits=limits(policy))
    finally:
        checked.stop()
        forbidden.stop()

    assert result.status_code == 200
    assert len(checked.requests) == 1
    assert forbidden.requests == []
    assert lookups == ["rebind.example"], "resolved once, connected to what was checked"


def test_production_mode_turns_the_guard_on():
    assert limits_for(dispatcher_settings()).addresses.public_only is False  # the test settings are sandbox
    with override_settings(DISPATCHER={**DISPATCHER, "MODE": "production", "ALLOWED_NETWORKS": ["10.9.0.0/16"]}):
        policy = limits_for(dispatcher_settings()).addresses
    assert policy.public_only
    assert policy.allows(ipaddress.ip_address("10.9.1.1"))
    assert not policy.allows(ipaddress.ip_address("10.8.1.1"))
