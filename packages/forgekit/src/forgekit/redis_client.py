"""The one way the kit opens Redis: a bounded, *blocking* connection pool.

redis-py's default pool raises ``MaxConnectionsError`` the moment more coroutines want a
connection than it allows, which under a burst of requests turns into failed requests. A
blocking pool makes them wait (up to ``pool_timeout_s``) for a connection instead, and bounds
what one process can open on the server.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis

DEFAULT_MAX_CONNECTIONS = 64
DEFAULT_POOL_TIMEOUT_S = 10.0


def redis_from_url(
    url: str,
    *,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    pool_timeout_s: float = DEFAULT_POOL_TIMEOUT_S,
    **options: Any,
) -> Redis:
    """A client for ``url`` (``redis://`` or ``rediss://``) over a blocking pool."""
    settings: dict[str, Any] = {"socket_connect_timeout": 5, "socket_timeout": 5}
    settings.update(options)
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=pool_timeout_s, **settings
    )
    return Redis(connection_pool=pool)
