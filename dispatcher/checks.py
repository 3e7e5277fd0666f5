"""Startup checks of the product's settings: a wrong value stops the process with a message saying which."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

from dispatcher.conf import MODES


@register(Tags.compatibility, deploy=False)
def check_dispatcher_settings(app_configs=None, **kwargs):
    from dispatcher.conf import dispatcher_settings
    from dispatcher.transport import parse_networks

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
    if conf.history_retention_days < 1:
        error("DISPATCHER_HISTORY_RETENTION_DAYS must be at least 1.", "The default is 60.", "E009")
    try:
        parse_networks(conf.allowed_networks)
    except ValueError as exc:
        error(f"DISPATCHER_ALLOWED_NETWORKS has a bad network: {exc}.", "Use CIDR, e.g. 10.1.0.0/16.", "E010")
    return errors
