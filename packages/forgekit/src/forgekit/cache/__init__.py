"""Async JSON cache: in-process by default, Redis when configured.

Use :func:`create_cache` at startup, keep the instance on ``app.state.cache``, and build keys
with :func:`forgekit.cache.keys.cache_key` so no key is another's prefix.
"""

from forgekit.cache.base import Cache
from forgekit.cache.factory import create_cache
from forgekit.cache.memory import MemoryCache
from forgekit.cache.redis_backend import RedisCache

__all__ = ["Cache", "MemoryCache", "RedisCache", "create_cache"]
