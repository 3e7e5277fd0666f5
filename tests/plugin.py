"""Loaded before Django (``-p tests.plugin``): gives the test run a Redis when ``REDIS_URL`` is not set.

It must run before pytest-django imports the settings, which read ``REDIS_URL`` once.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_server = None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global _server
    # Inbox URLs made by the tests (seed_demo's configuration) must never reach a sandbox someone runs on this
    # machine: they point at the discard port, where nothing listens. Tests that need a live inbox use the
    # live_server's address.
    os.environ["INBOX_BASE_URL"] = "http://127.0.0.1:9"
    os.environ.pop("SANDBOX_ADDRPORT", None)
    if os.environ.get("REDIS_URL"):
        return
    from sandbox.embedded_redis import EmbeddedRedis

    # A short private path: the sandbox's own data/redis.sock may be serving `make run` right now.
    socket_path = Path(tempfile.mkdtemp(prefix="hwds-test-")) / "redis.sock"
    _server = EmbeddedRedis(socket_path).start()
    os.environ["REDIS_URL"] = _server.url


def pytest_unconfigure(config):
    global _server
    if _server is not None:
        _server.stop()
        _server = None
