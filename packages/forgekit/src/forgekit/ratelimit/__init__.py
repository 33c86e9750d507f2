"""Rate limiting (GCRA): in-process by default, Redis when configured.

Create the limiter with :func:`create_rate_limiter` at startup, store it on
``app.state.rate_limiter``, and guard routes with :func:`rate_limit`. For counting failed logins
call :meth:`RateLimiter.hit`, :meth:`RateLimiter.peek` and :meth:`RateLimiter.reset` directly.
"""

from forgekit.ratelimit.base import RateLimiter
from forgekit.ratelimit.decision import RateLimitDecision, headers
from forgekit.ratelimit.dependency import (
    KeyFunc,
    client_ip_key,
    enforce,
    get_rate_limiter,
    rate_limit,
)
from forgekit.ratelimit.factory import create_rate_limiter
from forgekit.ratelimit.memory import MemoryRateLimiter
from forgekit.ratelimit.rate import Rate, parse_rate
from forgekit.ratelimit.redis_backend import RedisRateLimiter

__all__ = [
    "KeyFunc",
    "MemoryRateLimiter",
    "Rate",
    "RateLimitDecision",
    "RateLimiter",
    "RedisRateLimiter",
    "client_ip_key",
    "create_rate_limiter",
    "enforce",
    "get_rate_limiter",
    "headers",
    "parse_rate",
    "rate_limit",
]
