"""The client's real address: X-Forwarded-For is read only from a trusted proxy, from the right."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from core.proxies import client_address


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "client"),
    [
        ([], "10.0.0.5", "203.0.113.9", "10.0.0.5"),  # no proxy configured: the header is anyone's
        (["10.0.0.5"], "198.51.100.1", "203.0.113.9", "198.51.100.1"),  # not from the proxy: not believed
        (["10.0.0.5"], "10.0.0.5", "203.0.113.9", "203.0.113.9"),
        (["10.0.0.5"], "10.0.0.5", "1.1.1.1, 203.0.113.9", "203.0.113.9"),  # the client's own claim is left of it
        (["10.0.0.0/24"], "10.0.0.5", "203.0.113.9, 10.0.0.7", "203.0.113.9"),  # two proxies of ours
        (["10.0.0.5"], "10.0.0.5", "", "10.0.0.5"),  # a health check from the proxy itself
        (["10.0.0.5"], "10.0.0.5", "not-an-address", "10.0.0.5"),
        (["fd00::/8"], "fd00::1", "2001:db8::7", "2001:db8::7"),
    ],
)
def test_the_client_is_the_nearest_address_that_is_not_a_trusted_proxy(settings, trusted, remote, forwarded, client):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == client
