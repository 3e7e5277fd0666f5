"""Startup checks of the inbox's settings: a wrong value stops the process with a message saying which."""

from __future__ import annotations

from django.core.checks import Error, Tags, register


@register(Tags.compatibility)
def check_inbox_settings(app_configs=None, **kwargs):
    from inbox.conf import inbox_settings

    try:
        conf = inbox_settings()
    except (TypeError, ValueError, KeyError) as exc:
        return [Error(f"An INBOX_* setting is invalid: {exc}.", hint="Check the INBOX_* variables.", id="inbox.E001")]
    errors = []
    if not conf.base_url.startswith(("http://", "https://")):
        errors.append(Error("INBOX_BASE_URL must start with http:// or https://.", id="inbox.E002"))
    for name in ("rate_limit", "rate_window", "max_requests", "retention_hours", "max_body_bytes"):
        if getattr(conf, name) <= 0:
            errors.append(Error(f"INBOX_{name.upper()} must be positive.", id="inbox.E003"))
    if conf.max_delay < 0:
        errors.append(Error("INBOX_MAX_DELAY cannot be negative.", id="inbox.E004"))
    return errors
