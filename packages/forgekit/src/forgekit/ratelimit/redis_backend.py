"""Redis rate limiter: one atomic Lua script, so many API processes share each quota."""

from __future__ import annotations

import logging
from importlib.resources import files
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from forgekit.ratelimit.base import RateLimiter
from forgekit.ratelimit.decision import RateLimitDecision
from forgekit.ratelimit.gcra import check_cost
from forgekit.ratelimit.memory import MemoryRateLimiter
from forgekit.ratelimit.rate import Rate
from forgekit.redis_client import redis_from_url

log = logging.getLogger("forgekit.ratelimit")

GCRA_LUA = files("forgekit.ratelimit").joinpath("gcra.lua").read_text(encoding="utf-8")


class RedisRateLimiter(RateLimiter):
    """GCRA in Redis: read, decide and write happen in one script, under the server's clock.

    Degradation policy: while Redis cannot be reached, decisions fall back to an in-process
    limiter with the same rates (never *fail open*: a login brute force stays throttled, per
    API process instead of across them). Counting returns to Redis as soon as it answers.
    """

    def __init__(self, client: Redis, namespace: str, *, owns_client: bool = True) -> None:
        super().__init__(namespace)
        self.client = client
        self._owns_client = owns_client
        self.fallback = MemoryRateLimiter(namespace)
        # register_script sends EVALSHA and reloads the script on NOSCRIPT (after a restart).
        self._script = client.register_script(GCRA_LUA)

    @classmethod
    def from_url(cls, url: str, namespace: str, **client_kwargs: Any) -> RedisRateLimiter:
        """Connect lazily to ``url``."""
        return cls(redis_from_url(url, **client_kwargs), namespace)

    async def _run(self, key: str, rate: Rate, cost: int, commit: bool) -> RateLimitDecision:
        try:
            return await self._run_script(key, rate, cost, commit)
        except (RedisError, OSError) as exc:
            log.warning("redis rate limiter unavailable, counting in process: %s", exc)
        if commit:
            return await self.fallback.hit(key, rate, cost)
        return await self.fallback.peek(key, rate)

    async def _run_script(
        self, key: str, rate: Rate, cost: int, commit: bool
    ) -> RateLimitDecision:
        reply = await self._script(
            keys=[self._full_key(key)],
            args=[rate.interval_us, rate.burst_us, cost, "1" if commit else "0"],
        )
        allowed, remaining, retry_us, reset_us = (int(v) for v in reply)
        return RateLimitDecision(
            allowed=bool(allowed),
            limit=rate.limit,
            remaining=remaining,
            reset_after_s=reset_us / 1e6,
            retry_after_s=retry_us / 1e6,
        )

    async def hit(self, key: str, rate: Rate, cost: int = 1) -> RateLimitDecision:
        """See :meth:`RateLimiter.hit`."""
        check_cost(rate, cost)
        return await self._run(key, rate, cost, commit=True)

    async def peek(self, key: str, rate: Rate) -> RateLimitDecision:
        """See :meth:`RateLimiter.peek`."""
        return await self._run(key, rate, 1, commit=False)

    async def reset(self, key: str) -> None:
        """See :meth:`RateLimiter.reset` (both the shared and the fallback count)."""
        await self.fallback.reset(key)
        try:
            await self.client.unlink(self._full_key(key))
        except (RedisError, OSError) as exc:
            log.warning("redis rate limiter unavailable, reset in process only: %s", exc)

    async def ping(self) -> bool:
        """Return ``True`` when Redis answers, ``False`` (logged) when it cannot be reached."""
        try:
            return bool(await self.client.ping())
        except (RedisError, OSError) as exc:
            log.warning("redis rate limiter ping failed: %s", exc)
            return False

    async def close(self) -> None:
        """Close the connection pool if this limiter created it."""
        if self._owns_client:
            await self.client.aclose()
