"""The product's settings as one typed object, read from ``settings.DISPATCHER``."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

MODES = ("sandbox", "production")
USER_AGENT = "HotmartWebhookDispatcherSimulator/0.1 (+self-hosted)"


@dataclass(frozen=True)
class DispatcherSettings:
    mode: str
    max_attempts: int
    retry_schedule: tuple[float, ...]  # seconds before attempt 2, 3, ...; the last one repeats
    retry_jitter: float  # each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]
    retry_after_max: float  # a receiver's Retry-After is honoured up to this many seconds
    connect_timeout: float
    read_timeout: float  # between two bytes of the response
    total_timeout: float  # the whole response, however slowly it drips
    response_max_bytes: int
    sweep_interval: float
    stuck_grace: float  # an enqueued notification not picked up after this long is enqueued again
    sweep_batch: int
    countdown_max: float  # retries due sooner than this are also enqueued with a Celery countdown
    history_retention_days: int
    purge_batch: int
    allowed_networks: tuple[str, ...]  # production mode: private networks receivers may still be on
    lease_margin: float  # seconds a claim outlives the longest possible POST
    failing_disable_after: float  # seconds of continuous failure before a configuration is disabled
    batch_size: int  # notifications per message (a fan-out, a sweep)
    batch_concurrency: int  # threads of a worker process that deliver a message's notifications side by side
    slow_after: float  # seconds an attempt may run before its configuration counts as slow (dispatcher.gate)

    @property
    def sandbox(self) -> bool:
        return self.mode == "sandbox"

    @property
    def lease_seconds(self) -> float:
        """How long a claimed notification stays claimed: longer than any one POST can take."""
        return self.connect_timeout + self.total_timeout + self.lease_margin


def dispatcher_settings() -> DispatcherSettings:
    raw = settings.DISPATCHER
    return DispatcherSettings(
        mode=str(raw["MODE"]),
        max_attempts=int(raw["MAX_ATTEMPTS"]),
        retry_schedule=tuple(float(s) for s in raw["RETRY_SCHEDULE"]),
        retry_jitter=float(raw["RETRY_JITTER"]),
        retry_after_max=float(raw["RETRY_AFTER_MAX"]),
        connect_timeout=float(raw["CONNECT_TIMEOUT"]),
        read_timeout=float(raw["READ_TIMEOUT"]),
        total_timeout=float(raw["TOTAL_TIMEOUT"]),
        response_max_bytes=int(raw["RESPONSE_MAX_BYTES"]),
        sweep_interval=float(raw["SWEEP_INTERVAL"]),
        stuck_grace=float(raw["STUCK_GRACE"]),
        sweep_batch=int(raw["SWEEP_BATCH"]),
        countdown_max=float(raw["COUNTDOWN_MAX"]),
        history_retention_days=int(raw["HISTORY_RETENTION_DAYS"]),
        purge_batch=int(raw["PURGE_BATCH"]),
        allowed_networks=tuple(raw["ALLOWED_NETWORKS"]),
        lease_margin=float(raw["LEASE_MARGIN"]),
        failing_disable_after=float(raw["FAILING_DISABLE_AFTER"]),
        batch_size=int(raw["BATCH_SIZE"]),
        batch_concurrency=int(raw["BATCH_CONCURRENCY"]),
        slow_after=float(raw["SLOW_AFTER"]),
    )
