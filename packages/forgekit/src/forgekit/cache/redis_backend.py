"""Redis cache backend (``redis.asyncio``)."""

from __future__ import annotations

import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from forgekit.cache.base import Cache
from forgekit.redis_client import redis_from_url

log = logging.getLogger("forgekit.cache")

# SCAN's COUNT is a hint of work per round trip; UNLINK frees memory off the main thread, so
# large batches are cheap for the server while bounding one command's size.
_SCAN_COUNT = 1000
_UNLINK_BATCH = 500


def escape_glob(text: str) -> str:
    """Escape Redis glob metacharacters so ``text`` matches itself literally in ``MATCH``."""
    return "".join("\\" + ch if ch in "\\*?[]^" else ch for ch in text)


#: What a lost Redis connection raises (refused, reset, timed out).
_UNAVAILABLE = (RedisError, OSError)


class RedisCache(Cache):
    """A cache stored in Redis: shared by every API and worker process.

    Degradation policy: the cache *fails open*. While Redis cannot be reached a read is a miss
    (the caller loads from the database), a write or an invalidation is skipped with a
    warning, so the API keeps answering from its database instead of failing. An entry that an
    invalidation could not remove lives at most its TTL after Redis is back.
    """

    def __init__(self, client: Redis, namespace: str, *, owns_client: bool = True) -> None:
        super().__init__(namespace)
        self.client = client
        self._owns_client = owns_client

    @classmethod
    def from_url(cls, url: str, namespace: str, **client_kwargs: Any) -> RedisCache:
        """Connect lazily to ``url`` (``redis://`` or ``rediss://``)."""
        return cls(redis_from_url(url, **client_kwargs), namespace)

    async def _get_raw(self, full_key: str) -> str | bytes | None:
        try:
            value: str | bytes | None = await self.client.get(full_key)
        except _UNAVAILABLE as exc:
            log.warning("redis cache unavailable, read as a miss: %s", exc)
            return None
        return value

    async def _set_raw(self, full_key: str, text: str, ttl: float | None) -> None:
        # PX keeps sub-second TTLs exact; a TTL always rounds up so it never becomes 0 ms.
        px = None if ttl is None else max(1, int(ttl * 1000 + 0.999))
        try:
            await self.client.set(full_key, text.encode(), px=px)
        except _UNAVAILABLE as exc:
            log.warning("redis cache unavailable, write skipped: %s", exc)

    async def _delete_raw(self, full_keys: list[str]) -> int:
        try:
            return await self._unlink_batches(full_keys)
        except _UNAVAILABLE as exc:
            log.warning("redis cache unavailable, invalidation skipped: %s", exc)
            return 0

    async def _unlink_batches(self, full_keys: list[str]) -> int:
        deleted = 0
        for start in range(0, len(full_keys), _UNLINK_BATCH):
            deleted += int(await self.client.unlink(*full_keys[start : start + _UNLINK_BATCH]))
        return deleted

    async def _delete_prefix_raw(self, full_prefix: str) -> int:
        try:
            return await self._unlink_matching(full_prefix)
        except _UNAVAILABLE as exc:
            log.warning("redis cache unavailable, invalidation skipped: %s", exc)
            return 0

    async def _unlink_matching(self, full_prefix: str) -> int:
        # SCAN, never KEYS: KEYS blocks the server for the whole keyspace walk.
        pattern = escape_glob(full_prefix) + "*"
        deleted = 0
        batch: list[Any] = []
        async for key in self.client.scan_iter(match=pattern, count=_SCAN_COUNT):
            batch.append(key)
            if len(batch) >= _UNLINK_BATCH:
                deleted += int(await self.client.unlink(*batch))
                batch = []
        if batch:
            deleted += int(await self.client.unlink(*batch))
        return deleted

    async def ping(self) -> bool:
        """Return ``True`` when Redis answers, ``False`` (logged) when it cannot be reached."""
        try:
            return bool(await self.client.ping())
        except _UNAVAILABLE as exc:
            log.warning("redis cache ping failed: %s", exc)
            return False

    async def close(self) -> None:
        """Close the connection pool if this cache created it."""
        if self._owns_client:
            await self.client.aclose()
