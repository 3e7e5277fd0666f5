"""Settings come from the environment; wrong values stop the process with a message naming the setting."""

import os
import subprocess
import sys

import pytest
import redis
from django.test import override_settings

from dispatcher.checks import check_dispatcher_settings
from dispatcher.settings import DISPATCHER, kombu_url
from sandbox.embedded_redis import EmbeddedRedis, default_socket_path
from tests.conftest import ROOT


def test_kombu_spells_a_redis_socket_its_own_way():
    assert kombu_url("unix:///tmp/r.sock") == "redis+socket:///tmp/r.sock"
    assert kombu_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_default_settings_pass_the_checks():
    assert check_dispatcher_settings() == []


def test_bad_settings_are_reported_by_name():
    bad = {**DISPATCHER, "MAX_ATTEMPTS": 0, "RETRY_JITTER": 2, "READ_TIMEOUT": 0}
    with override_settings(DISPATCHER=bad):
        ids = {error.id for error in check_dispatcher_settings()}
    assert ids == {"dispatcher.E003", "dispatcher.E006", "dispatcher.E007"}
    with override_settings(DISPATCHER_MODE="staging"):
        [error] = check_dispatcher_settings()
    assert "DISPATCHER_MODE" in error.msg


@pytest.mark.parametrize("name", ["CONNECT_TIMEOUT", "RETRY_JITTER", "SWEEP_INTERVAL", "SLOW_AFTER"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_setting_that_is_not_a_finite_number_is_reported(name, value):
    with override_settings(DISPATCHER={**DISPATCHER, name: float(value)}):
        [error] = check_dispatcher_settings()
    assert error.id == "dispatcher.E002" and "not a finite number" in error.msg


@pytest.mark.parametrize("name", ["RATE_WINDOW", "MAX_DELAY"])
def test_an_inbox_setting_that_is_not_a_finite_number_is_reported(settings, name):
    from inbox.checks import check_inbox_settings

    settings.INBOX = {**settings.INBOX, name: float("nan")}
    [error] = check_inbox_settings()
    assert error.id == "inbox.E001" and "not a finite number" in error.msg


def test_an_unknown_mode_stops_manage_py_with_its_name():
    env = {**os.environ, "DISPATCHER_MODE": "staging"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "DISPATCHER_MODE is 'staging'" in result.stderr


def test_embedded_redis_starts_on_a_socket_and_stops(tmp_path):
    server = EmbeddedRedis(tmp_path / "r.sock").start()
    try:
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        client.set("k", "v")
        assert client.get("k") == b"v"
    finally:
        server.stop()
    assert not (tmp_path / "r.sock").exists()


def test_a_long_data_dir_gets_a_short_socket_path(tmp_path):
    deep = tmp_path / ("d" * 120)
    assert len(str(default_socket_path(deep))) <= 100
    assert default_socket_path(tmp_path) == tmp_path / "redis.sock"


def test_env_example_documents_every_setting_read_from_the_environment():
    import re

    settings_source = (ROOT / "dispatcher" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|float|list)\("([A-Z_]+)"', settings_source))
    read |= {"DATABASE_URL", "REDIS_URL", "DISPATCHER_DATA_DIR", "DISPATCHER_CA_BUNDLE"}
    example = (ROOT / ".env.example").read_text()
    missing = sorted(name for name in read if not re.search(rf"^#? ?{name}=", example, re.MULTILINE))
    assert missing == []
