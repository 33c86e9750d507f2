"""Fault: Redis stops under a running app (a private ``redis-server``; the shared one is never
touched). Stated policy: the cache fails open (a miss, the database answers), rate limits fall
back to in-process counting (never open), so login stays protected against brute force.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from forgekit.cache.redis_backend import RedisCache
from forgekit.identity.testing import register
from forgekit.ratelimit.rate import parse_rate
from forgekit.ratelimit.redis_backend import RedisRateLimiter
from forgekit.settings import ForgeSettings
from forgekit.testing.faults import PrivateRedis, record
from forgekit.testing.fixtures import AppFactory

pytestmark = pytest.mark.faults


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_cache_fails_open_while_redis_is_down(private_redis: PrivateRedis) -> None:
    cache = RedisCache.from_url(private_redis.url, "faults", socket_connect_timeout=1)
    try:
        await cache.set("k", {"v": 1}, ttl=60)
        assert await cache.get("k") == {"v": 1}
        private_redis.stop()
        assert await cache.ping() is False
        assert await cache.get("k") is None  # a miss, not an error
        await cache.set("k", {"v": 2}, ttl=60)  # skipped, not raised
        assert await cache.delete("k") == 0 and await cache.delete_prefix("") == 0
        calls: list[int] = []

        async def load() -> dict[str, int]:
            calls.append(1)
            return {"v": 3}

        assert await cache.get_or_set("k", load, ttl=60) == {"v": 3}
        assert calls == [1]
        private_redis.start()  # back (empty: no persistence): the cache is used again
        await cache.set("k", {"v": 4}, ttl=60)
        assert await cache.get("k") == {"v": 4}
    finally:
        await cache.close()


async def test_rate_limits_count_in_process_while_redis_is_down(
    private_redis: PrivateRedis,
) -> None:
    limiter = RedisRateLimiter.from_url(private_redis.url, "faults", socket_connect_timeout=1)
    rate = parse_rate("3/hour")  # no token comes back while Redis stops and starts
    try:
        assert (await limiter.hit("k", rate)).allowed
        private_redis.stop()
        decisions = [(await limiter.hit("k", rate)).allowed for _ in range(5)]
        # The fallback starts its own count: 3 allowed, then denied (fail closed, not open).
        assert decisions == [True, True, True, False, False]
        assert not (await limiter.peek("k", rate)).allowed
        await limiter.reset("k")  # reaches the fallback even with Redis gone
        assert (await limiter.peek("k", rate)).allowed
        private_redis.start()
        assert [(await limiter.hit("k", rate)).allowed for _ in range(4)] == [
            True, True, True, False,
        ]  # fmt: skip
    finally:
        await limiter.close()


@pytest.mark.parametrize("backend", ["real"])
async def test_login_stays_brute_force_protected_while_redis_is_down(
    private_redis: PrivateRedis, app_factory: AppFactory, forge_settings: ForgeSettings
) -> None:
    settings = forge_settings.model_copy(
        update={"redis_url": private_redis.url, "login_failures_per_account": "3/15minute"}
    )
    app = app_factory(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            user = await register(client)
            private_redis.stop()
            ready = await client.get("/ready")
            assert ready.status_code == 503, ready.text  # the probe tells the truth
            codes = [
                (await client.post("/auth/login", data={"username": user.username, "password": f"no{i}"}))
                .status_code
                for i in range(5)
            ]
            assert codes == [401, 401, 401, 429, 429], codes
            # Locked: even the right password is refused without a signal.
            right = await client.post(
                "/auth/login", data={"username": user.username, "password": user.password}
            )
            assert right.status_code == 429
            assert right.headers["content-type"] == "application/problem+json"
            assert int(right.headers["retry-after"]) >= 1
            record("redis-down-login", attempts=codes, right_password_status=right.status_code,
                   ready_status=ready.status_code)  # fmt: skip
        if hasattr(app.state.runtime.events, "delete_topology"):
            await app.state.runtime.events.delete_topology()
