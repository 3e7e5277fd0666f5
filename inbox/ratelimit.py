"""Rate limiting of inbox URLs: a fixed window counter per inbox in Redis, shared by every web process.

If Redis cannot be reached the request is let through: the inbox is a convenience, and its stored requests
are capped anyway (INBOX_MAX_REQUESTS), so a flood cannot grow the database.
"""

from __future__ import annotations

import time
from functools import lru_cache

import redis
import structlog
from django.conf import settings

from inbox.conf import inbox_settings

log = structlog.get_logger(__name__)


@lru_cache(maxsize=1)
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)


def inbox_rate_check(token: str, *, now: float | None = None) -> float | None:
    """Count one request to the inbox ``token``; answers None when it may go on, or the seconds until the
    window ends when the inbox has had INBOX_RATE_LIMIT requests in this window already."""
    conf = inbox_settings()
    now = time.time() if now is None else now
    window = int(now // conf.rate_window)
    key = f"inbox:rate:{token}:{window}"
    try:
        pipe = _client().pipeline()
        pipe.incr(key)
        pipe.expire(key, int(conf.rate_window * 2) + 1)
        count, _ = pipe.execute()
    except redis.RedisError as exc:
        log.warning("inbox_rate_limit_unavailable", error=str(exc) or type(exc).__name__)
        return None
    if count <= conf.rate_limit:
        return None
    return max(1.0, (window + 1) * conf.rate_window - now)
