"""The inbox's settings as one typed object, read from ``settings.INBOX``."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from core.numbers import finite_float


@dataclass(frozen=True)
class InboxSettings:
    enabled: bool  # whether /inbox/<token>/ answers at all (default: in sandbox mode only)
    base_url: str  # where this app is reached: inbox URLs are ``{base_url}/inbox/<token>/``
    rate_limit: int  # requests accepted per inbox per window; more get 429 and are not stored
    rate_window: float  # seconds
    max_requests: int  # requests kept per inbox; older ones are dropped as new ones arrive
    retention_hours: float  # requests older than this are purged
    max_body_bytes: int  # bytes of a request body stored; the rest is dropped (and flagged)
    max_delay: float  # seconds an inbox may be told to hang before answering


def inbox_settings() -> InboxSettings:
    raw = settings.INBOX
    return InboxSettings(
        enabled=bool(raw["ENABLED"]),
        base_url=str(raw["BASE_URL"]).rstrip("/"),
        rate_limit=int(raw["RATE_LIMIT"]),
        rate_window=finite_float(raw["RATE_WINDOW"]),
        max_requests=int(raw["MAX_REQUESTS"]),
        retention_hours=finite_float(raw["RETENTION_HOURS"]),
        max_body_bytes=int(raw["MAX_BODY_BYTES"]),
        max_delay=finite_float(raw["MAX_DELAY"]),
    )
