"""Choose the cache backend from configuration."""

from __future__ import annotations

from forgekit.cache.base import Cache
from forgekit.cache.memory import MemoryCache
from forgekit.cache.redis_backend import RedisCache


def create_cache(redis_url: str | None, namespace: str) -> Cache:
    """Return a :class:`RedisCache` for ``redis_url``, or a :class:`MemoryCache` when ``None``."""
    if redis_url is None:
        return MemoryCache(namespace)
    return RedisCache.from_url(redis_url, namespace)
