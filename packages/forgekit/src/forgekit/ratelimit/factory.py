"""Choose the rate-limiter backend from configuration."""

from __future__ import annotations

from forgekit.ratelimit.base import RateLimiter
from forgekit.ratelimit.memory import MemoryRateLimiter
from forgekit.ratelimit.redis_backend import RedisRateLimiter


def create_rate_limiter(redis_url: str | None, namespace: str) -> RateLimiter:
    """Return a :class:`RedisRateLimiter` for ``redis_url``, else a :class:`MemoryRateLimiter`.

    The in-process limiter counts per process: with several API processes, configure Redis.
    """
    if redis_url is None:
        return MemoryRateLimiter(namespace)
    return RedisRateLimiter.from_url(redis_url, namespace)
