"""The product's settings as one typed object, read from ``settings.DISPATCHER``."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from core.numbers import finite_float

MODES = ("sandbox", "production")


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
    stuck_grace: float  # a bulk resend job whose worker has not reported for this long is started again
    history_retention_days: int
    purge_batch: int
    allowed_networks: tuple[str, ...]  # production mode: private networks receivers may still be on
    lease_margin: float  # seconds a claim outlives the longest possible POST
    failing_disable_after: float  # seconds of continuous failure before a configuration is disabled
    concurrency: int  # POSTs in flight at once in one worker process
    configuration_concurrency: int  # ... for one configuration (its fair share of the worker)
    host_concurrency: int  # ... to one host (scheme, name, port), whatever the configurations
    claim_batch: int  # notifications claimed by one statement at most
    record_batch: int  # attempts saved by one statement at most
    slow_after: float  # seconds a configuration's oldest POST may run, with no place left, before it counts as slow

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
        retry_schedule=tuple(finite_float(s) for s in raw["RETRY_SCHEDULE"]),
        retry_jitter=finite_float(raw["RETRY_JITTER"]),
        retry_after_max=finite_float(raw["RETRY_AFTER_MAX"]),
        connect_timeout=finite_float(raw["CONNECT_TIMEOUT"]),
        read_timeout=finite_float(raw["READ_TIMEOUT"]),
        total_timeout=finite_float(raw["TOTAL_TIMEOUT"]),
        response_max_bytes=int(raw["RESPONSE_MAX_BYTES"]),
        sweep_interval=finite_float(raw["SWEEP_INTERVAL"]),
        stuck_grace=finite_float(raw["STUCK_GRACE"]),
        history_retention_days=int(raw["HISTORY_RETENTION_DAYS"]),
        purge_batch=int(raw["PURGE_BATCH"]),
        allowed_networks=tuple(raw["ALLOWED_NETWORKS"]),
        lease_margin=finite_float(raw["LEASE_MARGIN"]),
        failing_disable_after=finite_float(raw["FAILING_DISABLE_AFTER"]),
        concurrency=int(raw["CONCURRENCY"]),
        configuration_concurrency=int(raw["CONFIGURATION_CONCURRENCY"]),
        host_concurrency=int(raw["HOST_CONCURRENCY"]),
        claim_batch=int(raw["CLAIM_BATCH"]),
        record_batch=int(raw["RECORD_BATCH"]),
        slow_after=finite_float(raw["SLOW_AFTER"]),
    )
