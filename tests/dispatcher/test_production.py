"""Production mode: refuses sandbox secrets and debug settings, naming the setting; runs under gunicorn."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from dispatcher.checks import check_demo_password, check_production_settings
from tests.conftest import ROOT, _test_database_url, free_port

GOOD = {
    "DISPATCHER_MODE": "production",
    "SECRET_KEY": "x" * 50,
    "DEBUG": False,
    "ALLOWED_HOSTS": ["hooks.example.com"],
}


@pytest.mark.parametrize(
    ("bad", "error_id", "words"),
    [
        ({"SECRET_KEY": "sandbox-insecure-key-do-not-use-in-production"}, "dispatcher.E101", "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "dispatcher.E101", "SECRET_KEY"),
        (
            {"SECRET_KEY": "change-me-to-a-long-random-value-before-starting-production"},
            "dispatcher.E101",
            "SECRET_KEY",
        ),
        ({"DEBUG": True}, "dispatcher.E102", "DEBUG"),
        ({"ALLOWED_HOSTS": []}, "dispatcher.E103", "ALLOWED_HOSTS"),
    ],
)
def test_production_settings_that_would_be_unsafe_are_errors_naming_the_setting(bad, error_id, words):
    with override_settings(**{**GOOD, **bad}):
        [error] = check_production_settings()
    assert error.id == error_id and words in error.msg + error.hint
    with override_settings(**GOOD):
        assert check_production_settings() == []
    with override_settings(**{**GOOD, **bad, "DISPATCHER_MODE": "sandbox"}):
        assert check_production_settings() == [], "the sandbox may use its defaults"


def test_the_demo_password_is_refused_in_production(db):
    demo = get_user_model().objects.create_user("demo", password="demo")
    with override_settings(**GOOD):
        [error] = check_demo_password(databases=["default"])
        assert error.id == "dispatcher.E104" and "changepassword demo" in error.hint
        demo.set_password("a much better password")
        demo.save()
        assert check_demo_password(databases=["default"]) == []


def production_env(**extra) -> dict[str, str]:
    return {
        **os.environ,
        "DISPATCHER_MODE": "production",
        "DATABASE_URL": _test_database_url(),
        "SECRET_KEY": "a-production-secret-key-that-is-long-enough-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        **extra,
    }


@pytest.mark.django_db(transaction=True)
def test_manage_py_refuses_to_start_in_production_with_a_default_secret_key():
    env = production_env()
    env.pop("SECRET_KEY")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "dispatcher.E101" in result.stderr and "Set SECRET_KEY" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_gunicorn_refuses_to_start_with_debug_on(tmp_path):
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "dispatcher.wsgi:application", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=production_env(DEBUG="true"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "dispatcher.E102: DEBUG is on in production mode." in result.stderr


@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_the_production_settings(tmp_path):
    static_root = tmp_path / "static"
    env = production_env(STATIC_ROOT=str(static_root))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "dispatcher.wsgi:application", "--bind", f"127.0.0.1:{port}", "-w", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/health", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers (503 while no worker runs against this database)
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError("gunicorn did not start:\n" + server.stdout.read().decode()) from None
                time.sleep(0.2)
        try:
            health = urllib.request.urlopen(base + "/health", timeout=5)
        except urllib.error.HTTPError as error:  # 503 when no worker beats against this Redis: still an answer
            health = error
        assert health.code in (200, 503) and b'"database": "ok"' in health.read()
        login = urllib.request.urlopen(base + "/admin/login/", timeout=5)
        page = login.read().decode()
        assert login.status == 200 and 'name="password"' in page
        assert login.headers["X-Frame-Options"] == "DENY"
        assert login.headers["Referrer-Policy"] == "same-origin"
        css = urllib.request.urlopen(base + "/static/admin/css/base.css", timeout=5)
        assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_compose_file_is_valid_and_complete(tmp_path):
    import shutil

    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (.ci/run installs it)")
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    checked = subprocess.run([binary, "config", "-q"], cwd=tmp_path, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    services = subprocess.run(
        [binary, "--profile", "flower", "config", "--services"], cwd=tmp_path, capture_output=True, text=True
    ).stdout.split()
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "worker-retries", "beat", "flower"}
    rendered = subprocess.run([binary, "config"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert rendered.count("healthcheck:") >= 6
    assert "service_completed_successfully" in rendered, "migrations run once before the web starts"
