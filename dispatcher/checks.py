"""Startup checks of the product's settings: a wrong value stops the process with a message saying which."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

from engine.conf import MODES


@register(Tags.compatibility, deploy=False)
def check_dispatcher_settings(app_configs=None, **kwargs):
    from core.addresses import parse_networks
    from engine.conf import dispatcher_settings

    errors = []

    def error(msg: str, hint: str, id_: str) -> None:
        errors.append(Error(msg, hint=hint, id=f"dispatcher.{id_}"))

    if settings.DISPATCHER_MODE not in MODES:
        error(f"DISPATCHER_MODE is {settings.DISPATCHER_MODE!r}.", "Set it to 'sandbox' or 'production'.", "E001")
        return errors
    try:
        conf = dispatcher_settings()
    except (TypeError, ValueError) as exc:
        error(
            f"A DISPATCHER_* setting is not a number: {exc}.", "Check the DISPATCHER_* environment variables.", "E002"
        )
        return errors
    if conf.max_attempts < 1:
        error("DISPATCHER_MAX_ATTEMPTS must be at least 1.", "The Hotmart default is 5.", "E003")
    if conf.max_attempts > 1 and not conf.retry_schedule:
        error("DISPATCHER_RETRY_SCHEDULE is empty.", "Give the delays in seconds, e.g. '2,4,8,16'.", "E004")
    if any(delay < 0 for delay in conf.retry_schedule):
        error("DISPATCHER_RETRY_SCHEDULE has a negative delay.", "Use delays of 0 seconds or more.", "E005")
    if not 0 <= conf.retry_jitter < 1:
        error("DISPATCHER_RETRY_JITTER must be in [0, 1).", "0.1 means up to 10% earlier or later.", "E006")
    for name in ("connect_timeout", "read_timeout", "total_timeout", "sweep_interval", "stuck_grace"):
        if getattr(conf, name) <= 0:
            error(f"DISPATCHER_{name.upper()} must be positive.", "Use a number of seconds above 0.", "E007")
    if conf.response_max_bytes < 1024:
        error("DISPATCHER_RESPONSE_MAX_BYTES must be at least 1024.", "The default is 65536 (64 KiB).", "E008")
    for name in ("concurrency", "configuration_concurrency", "host_concurrency", "claim_batch", "record_batch"):
        if getattr(conf, name) < 1:
            error(
                f"DISPATCHER_{name.upper()} must be at least 1.",
                "docs/settings.md gives the defaults and what each bounds.",
                "E011",
            )
    if conf.history_retention_days < 1:
        error("DISPATCHER_HISTORY_RETENTION_DAYS must be at least 1.", "The default is 60.", "E009")
    try:
        parse_networks(conf.allowed_networks)
    except ValueError as exc:
        error(f"DISPATCHER_ALLOWED_NETWORKS has a bad network: {exc}.", "Use CIDR, e.g. 10.1.0.0/16.", "E010")
    try:
        parse_networks(settings.TRUSTED_PROXIES)
    except ValueError as exc:
        error(
            f"TRUSTED_PROXIES has a bad address: {exc}.",
            "List your reverse proxies' addresses or networks, e.g. 10.0.0.5 or 172.18.0.0/16.",
            "E012",
        )
    return errors


@register(Tags.security, deploy=False)
def check_production_settings(app_configs=None, **kwargs):
    """Production mode does not start with sandbox secrets or debug settings; each error names its setting."""
    if settings.DISPATCHER_MODE != "production":
        return []
    errors = []
    key = settings.SECRET_KEY
    if key == settings.SANDBOX_SECRET_KEY or len(key) < 32 or "change-me" in key.lower():
        errors.append(
            Error(
                "SECRET_KEY is a default (the sandbox's or .env.example's) or shorter than 32 characters.",
                hint="Set SECRET_KEY to a long random value, e.g. "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))'.",
                id="dispatcher.E101",
            )
        )
    if settings.DEBUG:
        errors.append(
            Error("DEBUG is on in production mode.", hint="Set DEBUG=false (or unset it).", id="dispatcher.E102")
        )
    if not settings.ALLOWED_HOSTS:
        errors.append(
            Error(
                "ALLOWED_HOSTS is empty.",
                hint="Set ALLOWED_HOSTS to the host names the web app answers, e.g. hooks.example.com.",
                id="dispatcher.E103",
            )
        )
    return errors


@register(Tags.security, deploy=False, databases=["default"])
def check_demo_password(app_configs=None, databases=None, **kwargs):
    """Production mode does not start while the demo account still opens with demo / demo."""
    if settings.DISPATCHER_MODE != "production" or not databases:
        return []
    from django.contrib.auth import get_user_model
    from django.db import DatabaseError

    try:
        demo = get_user_model().objects.filter(username="demo").first()
    except DatabaseError:
        return []  # not migrated yet: `migrate` itself must be able to run
    if demo is not None and demo.check_password("demo"):
        return [
            Error(
                "The demo account still has the password 'demo'.",
                hint="Change it (manage.py changepassword demo) or delete the account.",
                id="dispatcher.E104",
            )
        ]
    return []


def enforce_startup_checks() -> None:
    """Run the checks where Django does not on its own (gunicorn, Celery) and refuse to start on an error."""
    from django.core import checks
    from django.core.exceptions import ImproperlyConfigured

    # The database-backed checks (the demo password) only matter, and only run, in production mode.
    databases = ["default"] if settings.DISPATCHER_MODE == "production" else None
    found = checks.run_checks(include_deployment_checks=False, databases=databases)
    errors = [e for e in found if e.level >= checks.ERROR]
    if errors:
        raise ImproperlyConfigured("\n".join(f"{e.id}: {e.msg} {e.hint or ''}".strip() for e in errors))
