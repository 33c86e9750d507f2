"""Redis for tests: the real server's URL, a connection that fails (never skips) when it is down."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from forgekit.cache import Cache, MemoryCache, RedisCache

REDIS_URL = os.environ.get("FORGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_WANTED = {b.strip() for b in os.environ.get("FORGE_TEST_BACKENDS", "embedded,real").split(",")}
#: "memory" (embedded) and/or "redis" (real), as FORGE_TEST_BACKENDS selects.
REDIS_BACKENDS = [
    name for name, kind in (("memory", "embedded"), ("redis", "real")) if kind in _WANTED
]


async def connect_redis() -> Redis:
    """A client to the real Redis, or a test failure saying why (never a skip)."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        pytest.fail(
            f"real Redis unreachable at {REDIS_URL} ({exc}); start it or set FORGE_TEST_REDIS_URL",
            pytrace=False,
        )
    return client


@asynccontextmanager
async def open_cache(kind: str, namespace: str) -> AsyncIterator[Cache]:
    """A cache of ``kind`` ("memory" or "redis", see :data:`REDIS_BACKENDS`) under
    ``namespace``; the Redis one is emptied and closed afterwards."""
    if kind == "memory":
        memory = MemoryCache(namespace)
        try:
            yield memory
        finally:
            await memory.close()
        return
    redis_cache = RedisCache(await connect_redis(), namespace)
    try:
        yield redis_cache
    finally:
        await redis_cache.delete_prefix("")
        await redis_cache.close()
