"""forgekit.ratelimit on the in-process backend and on the real Redis (never skipped)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from forgekit.errors import install_error_handlers
from forgekit.ratelimit import (
    MemoryRateLimiter,
    Rate,
    RateLimitDecision,
    RateLimiter,
    RedisRateLimiter,
    client_ip_key,
    create_rate_limiter,
    headers,
    parse_rate,
    rate_limit,
)
from forgekit.testing.redis import REDIS_BACKENDS, REDIS_URL, connect_redis

BACKENDS = REDIS_BACKENDS


async def _drop_namespace(client: Redis, namespace: str) -> None:
    keys = [k async for k in client.scan_iter(match=namespace + ":*")]
    if keys:
        await client.unlink(*keys)


@pytest.fixture
def namespace() -> str:
    return f"forgekit-test:rl:{uuid.uuid4().hex}"


@pytest.fixture(params=BACKENDS)
async def limiter(request: pytest.FixtureRequest, namespace: str) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        memory = MemoryRateLimiter(namespace)
        yield memory
        await memory.close()
        return
    client = await connect_redis()
    redis_limiter = RedisRateLimiter(client, namespace)
    yield redis_limiter
    await _drop_namespace(client, namespace)
    await redis_limiter.close()


# --- rates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("60/minute", Rate(60, 60.0)),
        ("10/s", Rate(10, 1.0)),
        ("10 / second", Rate(10, 1.0)),
        ("1000/hour", Rate(1000, 3600.0)),
        ("5/day", Rate(5, 86400.0)),
        ("10/15minute", Rate(10, 900.0)),
        ("3/2.5s", Rate(3, 2.5)),
        ("100/Minutes", Rate(100, 60.0)),
    ],
)
def test_parse_rate(text: str, expected: Rate) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize(
    "text", ["", "60", "minute", "60/fortnight", "-1/minute", "0/minute", "a/s"]
)
def test_parse_rate_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        parse_rate(text)


@given(
    st.integers(min_value=1, max_value=10**6),
    st.sampled_from([("s", 1), ("minute", 60), ("hours", 3600), ("d", 86400)]),
    st.integers(min_value=1, max_value=99),
)
def test_parse_rate_property(limit: int, unit: tuple[str, int], multiplier: int) -> None:
    name, seconds = unit
    assert parse_rate(f"{limit}/{name}") == Rate(limit, float(seconds))
    assert parse_rate(f"{limit}/{multiplier}{name}") == Rate(limit, float(seconds * multiplier))


def test_rate_validation() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Rate(0, 1)
    with pytest.raises(ValueError, match="positive"):
        Rate(1, 0)
    assert Rate(3, 1).interval_us == 333_333
    assert Rate(3, 1).burst_us == 999_999


# --- limiter behaviour on both backends ----------------------------------------------------------
# The rates leave a busy machine room: a token must not come back between two hits the test
# expects in one window, and bounds on what the limiter reports allow seconds of slack.


async def test_allows_limit_then_denies_with_retry_after(limiter: RateLimiter) -> None:
    rate = Rate(5, 600.0)  # one request back every 120 s
    decisions = [await limiter.hit("user:1", rate) for _ in range(5)]
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0]
    assert all(d.limit == 5 for d in decisions)
    assert 570 < decisions[-1].reset_after_s <= 600

    denied = await limiter.hit("user:1", rate)
    assert not denied.allowed
    assert denied.remaining == 0
    assert 90 < denied.retry_after_s <= 120
    assert 570 < denied.reset_after_s <= 600


async def test_refills_over_time(limiter: RateLimiter) -> None:
    rate = Rate(2, 4.0)  # one request back every 2 s: the slack between hits that must not refill
    for _ in range(2):
        assert (await limiter.hit("k", rate)).allowed
    denied = await limiter.hit("k", rate)
    assert not denied.allowed
    await asyncio.sleep(denied.retry_after_s + 0.02)
    again = await limiter.hit("k", rate)
    assert again.allowed
    assert again.remaining == 0
    assert not (await limiter.hit("k", rate)).allowed
    await asyncio.sleep(again.reset_after_s + 0.02)  # the whole burst is back
    assert (await limiter.peek("k", rate)).remaining == 2


async def test_denied_hits_consume_nothing(limiter: RateLimiter) -> None:
    rate = Rate(2, 4.0)  # a token every 2 s: 22 hits fit in that on a busy machine
    await limiter.hit("k", rate)
    await limiter.hit("k", rate)
    denied = [await limiter.hit("k", rate) for _ in range(20)]
    assert not any(d.allowed for d in denied)
    # Denied hits push nothing back: the wait only shrinks.
    assert denied[-1].retry_after_s <= denied[0].retry_after_s
    await asyncio.sleep(denied[-1].retry_after_s + 0.02)
    assert (await limiter.hit("k", rate)).allowed


async def test_keys_are_independent(limiter: RateLimiter) -> None:
    rate = Rate(1, 60)
    assert (await limiter.hit("user:1", rate)).allowed
    assert not (await limiter.hit("user:1", rate)).allowed
    assert (await limiter.hit("user:2", rate)).allowed


async def test_cost(limiter: RateLimiter) -> None:
    rate = Rate(5, 600)
    assert (await limiter.hit("k", rate, cost=3)).remaining == 2
    denied = await limiter.hit("k", rate, cost=3)
    assert not denied.allowed
    assert denied.remaining == 2
    assert 90 < denied.retry_after_s <= 120  # one more token, 120 s each
    assert (await limiter.hit("k", rate, cost=2)).remaining == 0
    with pytest.raises(ValueError, match="exceeds"):
        await limiter.hit("k", rate, cost=6)
    with pytest.raises(ValueError, match="at least 1"):
        await limiter.hit("k", rate, cost=0)


async def test_peek_and_reset_for_failed_logins(limiter: RateLimiter) -> None:
    failures = Rate(3, 900)
    key = "login-failures:alice@example.com"
    fresh = await limiter.peek(key, failures)
    assert fresh.allowed and fresh.remaining == 3
    for _ in range(3):
        await limiter.hit(key, failures)
    blocked = await limiter.peek(key, failures)
    assert not blocked.allowed
    assert blocked.remaining == 0
    assert 270 < blocked.retry_after_s <= 300
    # peeking consumed nothing and kept the lock-out
    assert not (await limiter.peek(key, failures)).allowed
    await limiter.reset(key)
    assert (await limiter.peek(key, failures)).remaining == 3


async def test_concurrent_hits_never_exceed_the_limit(limiter: RateLimiter) -> None:
    rate = Rate(20, 3600)
    decisions = await asyncio.gather(*(limiter.hit("burst", rate) for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 20
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(20))


async def test_ping(limiter: RateLimiter) -> None:
    assert await limiter.ping() is True


async def test_two_redis_limiters_share_one_quota(namespace: str) -> None:
    # Two API processes: separate connections, same Redis, same namespace.
    first = RedisRateLimiter(await connect_redis(), namespace)
    second = RedisRateLimiter(await connect_redis(), namespace)
    try:
        rate = Rate(25, 3600)
        decisions = await asyncio.gather(
            *(lim.hit("shared", rate) for _ in range(30) for lim in (first, second))
        )
        assert sum(d.allowed for d in decisions) == 25
        a, b = await first.peek("shared", rate), await second.peek("shared", rate)
        assert not a.allowed and not b.allowed
        assert abs(a.retry_after_s - b.retry_after_s) < 30  # one clock: Redis's
        await second.reset("shared")
        assert (await first.peek("shared", rate)).remaining == 25
    finally:
        await _drop_namespace(first.client, namespace)
        await first.close()
        await second.close()


async def test_redis_state_expires_with_the_quota(namespace: str) -> None:
    client = await connect_redis()
    redis_limiter = RedisRateLimiter(client, namespace)
    try:
        await redis_limiter.hit("k", Rate(10, 600))
        # One hit of 10 per 10 min: the state matters for 60 s, then an absent key means the same.
        assert 30_000 < await client.pttl(f"{namespace}:k") <= 60_000
        await redis_limiter.peek("other", Rate(10, 600))
        assert await client.exists(f"{namespace}:other") == 0
    finally:
        await _drop_namespace(client, namespace)
        await redis_limiter.close()


async def test_redis_script_survives_a_script_flush(namespace: str) -> None:
    client = await connect_redis()
    redis_limiter = RedisRateLimiter(client, namespace)
    try:
        await redis_limiter.hit("k", Rate(5, 60))
        await client.script_flush()
        assert (await redis_limiter.hit("k", Rate(5, 60))).remaining == 3
    finally:
        await _drop_namespace(client, namespace)
        await redis_limiter.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_limiter_exact_arithmetic() -> None:
    clock = FakeClock()
    memory = MemoryRateLimiter("ns", clock=clock)
    rate = Rate(3, 1.0)
    assert [(await memory.hit("k", rate)).remaining for _ in range(3)] == [2, 1, 0]
    denied = await memory.hit("k", rate)
    assert denied.retry_after_s == pytest.approx(0.333333)
    clock.now += 0.333333
    assert (await memory.hit("k", rate)).allowed


async def test_memory_limiter_sweeps_idle_keys() -> None:
    clock = FakeClock()
    memory = MemoryRateLimiter("ns", clock=clock)
    rate = Rate(10, 1.0)
    for i in range(3000):
        await memory.hit(f"ip:{i}", rate)
        clock.now += 0.01  # each key's state lasts 0.1 s
    assert len(memory._tats) < 1100


async def test_create_rate_limiter_picks_the_backend() -> None:
    assert isinstance(create_rate_limiter(None, "ns"), MemoryRateLimiter)
    redis_limiter = create_rate_limiter(REDIS_URL, "ns")
    try:
        assert isinstance(redis_limiter, RedisRateLimiter)
        assert await redis_limiter.ping() is True
    finally:
        await redis_limiter.close()


# --- headers ----------------------------------------------------------------------------------


def test_headers_when_allowed() -> None:
    decision = RateLimitDecision(
        allowed=True, limit=60, remaining=59, reset_after_s=1.2, retry_after_s=0
    )
    assert headers(decision) == {
        "RateLimit-Limit": "60",
        "RateLimit-Remaining": "59",
        "RateLimit-Reset": "2",
    }


def test_headers_when_denied_round_up() -> None:
    decision = RateLimitDecision(
        allowed=False, limit=60, remaining=0, reset_after_s=59.01, retry_after_s=0.2
    )
    assert headers(decision) == {
        "RateLimit-Limit": "60",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "60",
        "Retry-After": "1",
    }


# --- FastAPI dependency -----------------------------------------------------------------------


def _principal(request: Request) -> str:
    return "user:" + request.headers.get("x-user", "anon")


async def _async_principal(request: Request) -> str:
    await asyncio.sleep(0)
    return "key:" + request.headers.get("x-key", "none")


def _app(limiter: RateLimiter) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.rate_limiter = limiter

    @app.get("/things", dependencies=[Depends(rate_limit("things:list", Rate(2, 60), _principal))])
    async def things() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get(
        "/double",
        dependencies=[
            Depends(rate_limit("double:wide", "10/minute", _async_principal)),
            Depends(rate_limit("double:narrow", "3/minute", _async_principal)),
        ],
    )
    async def double() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/anon", dependencies=[Depends(rate_limit("anon", "1/minute", client_ip_key))])
    async def anon() -> dict[str, str]:
        return {"ok": "yes"}

    return app


async def test_dependency_sets_headers_then_answers_429(limiter: RateLimiter) -> None:
    transport = httpx.ASGITransport(app=_app(limiter))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        first = await client.get("/things", headers={"x-user": "1"})
        second = await client.get("/things", headers={"x-user": "1"})
        third = await client.get("/things", headers={"x-user": "1"})
        other_user = await client.get("/things", headers={"x-user": "2"})

    assert first.status_code == 200
    assert first.headers["RateLimit-Limit"] == "2"
    assert first.headers["RateLimit-Remaining"] == "1"
    assert second.headers["RateLimit-Remaining"] == "0"
    assert "Retry-After" not in second.headers

    assert third.status_code == 429
    assert third.headers["content-type"] == "application/problem+json"
    assert third.headers["Retry-After"] == "30"
    assert third.headers["RateLimit-Remaining"] == "0"
    assert third.headers["RateLimit-Limit"] == "2"
    body = third.json()
    assert body["type"].endswith("/rate-limited")
    assert body["status"] == 429
    assert body["retry_after"] == 30

    assert other_user.status_code == 200


async def test_dependency_reports_the_most_restrictive_limit(limiter: RateLimiter) -> None:
    transport = httpx.ASGITransport(app=_app(limiter))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = [await client.get("/double", headers={"x-key": "7"}) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["RateLimit-Limit"] for r in responses] == ["3", "3", "3", "3"]
    assert [r.headers["RateLimit-Remaining"] for r in responses[:3]] == ["2", "1", "0"]


async def test_dependency_by_client_ip(limiter: RateLimiter) -> None:
    transport = httpx.ASGITransport(app=_app(limiter), client=("203.0.113.7", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/anon")).status_code == 200
        assert (await client.get("/anon")).status_code == 429
    assert not (await limiter.peek("anon:ip:203.0.113.7", Rate(1, 60))).allowed


async def test_dependency_without_limiter_is_a_server_error() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/x", dependencies=[Depends(rate_limit("x", "1/s", _principal))])
    async def x() -> dict[str, str]:
        return {}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/x")).status_code == 500


async def test_default_rate_limit_uses_settings_and_the_app_key_func(
    limiter: RateLimiter,
) -> None:
    from types import SimpleNamespace

    from forgekit.ratelimit.http import default_rate_limit

    app = FastAPI(dependencies=[Depends(default_rate_limit)])
    install_error_handlers(app)
    app.state.rate_limiter = limiter
    app.state.runtime = SimpleNamespace(settings=SimpleNamespace(rate_limit_default="2/minute"))
    app.state.rate_limit_key = _principal

    @app.get("/any")
    async def any_route() -> dict[str, str]:
        return {}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        codes = [(await client.get("/any", headers={"x-user": "9"})).status_code for _ in range(3)]
        other = await client.get("/any", headers={"x-user": "10"})
    assert codes == [200, 200, 429]
    assert other.status_code == 200
    assert other.headers["RateLimit-Limit"] == "2"


async def test_default_rate_limit_is_a_no_op_without_a_rate(limiter: RateLimiter) -> None:
    from forgekit.ratelimit.http import default_rate_limit

    app = FastAPI(dependencies=[Depends(default_rate_limit)])
    app.state.rate_limiter = limiter

    @app.get("/any")
    async def any_route() -> dict[str, str]:
        return {}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/any")
    assert response.status_code == 200
    assert "RateLimit-Limit" not in response.headers
