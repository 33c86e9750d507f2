"""forgekit.cache on the in-process backend and on the real Redis (never skipped)."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import enum
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from forgekit.cache import Cache, MemoryCache, RedisCache, create_cache
from forgekit.cache.codec import decode, encode
from forgekit.cache.keys import cache_key
from forgekit.cache.redis_backend import escape_glob
from forgekit.testing.redis import REDIS_BACKENDS, REDIS_URL, connect_redis, open_cache

BACKENDS = REDIS_BACKENDS


@pytest.fixture(params=BACKENDS)
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    async with open_cache(request.param, f"forgekit-test:{uuid.uuid4().hex}") as cache:
        yield cache


class Colour(enum.Enum):
    RED = "red"


class Item(BaseModel):
    id: int
    at: dt.datetime


async def test_round_trip_json_values(cache: Cache) -> None:
    value = {"a": [1, 2.5, "x", None, True], "nested": {"k": []}, "unicode": "päth ✓"}
    await cache.set("k", value, ttl=60)
    assert await cache.get("k") == value
    await cache.set("n", 42, ttl=None)
    assert await cache.get("n") == 42


async def test_common_types_are_stored_in_json_form(cache: Cache) -> None:
    when = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    await cache.set(
        "k",
        {
            "when": when,
            "day": when.date(),
            "id": ident,
            "price": decimal.Decimal("1.10"),
            "colour": Colour.RED,
            "item": Item(id=1, at=when),
            "tuple": (1, 2),
        },
        ttl=60,
    )
    assert await cache.get("k") == {
        "when": "2024-05-01T12:30:00+00:00",
        "day": "2024-05-01",
        "id": str(ident),
        "price": "1.10",
        "colour": "red",
        "item": {"id": 1, "at": "2024-05-01T12:30:00Z"},
        "tuple": [1, 2],
    }


@pytest.mark.parametrize("bad", [object(), {1, 2}, b"bytes", {"nested": object()}])
async def test_non_json_value_raises_type_error_and_stores_nothing(
    cache: Cache, bad: object
) -> None:
    with pytest.raises(TypeError, match="JSON"):
        await cache.set("k", bad, ttl=60)
    assert await cache.get("k") is None


async def test_missing_key_is_none(cache: Cache) -> None:
    assert await cache.get("absent") is None


async def test_ttl_expiry(cache: Cache) -> None:
    ttl = 0.5
    started = time.monotonic()
    await cache.set("short", "v", ttl=ttl)
    await cache.set("long", "v", ttl=3600)
    await cache.set("forever", "v", ttl=None)
    first = await cache.get("short")
    # Before its TTL the entry is there; a busy machine may already be past it, and then only
    # expiry is checked (the TTL started after ``started``, so this bound is safe).
    if time.monotonic() - started < ttl:
        assert first == "v"
    deadline = time.monotonic() + 60
    while await cache.get("short") is not None:  # polled: no fixed sleep to guess the expiry
        assert time.monotonic() < deadline, "the short entry never expired"
        await asyncio.sleep(0.05)
    assert time.monotonic() - started >= ttl
    assert await cache.get("long") == "v"
    assert await cache.get("forever") == "v"


@pytest.mark.parametrize("bad_ttl", [0, -1, -0.5])
async def test_non_positive_ttl_is_refused(cache: Cache, bad_ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl"):
        await cache.set("k", 1, ttl=bad_ttl)


async def test_overwrite_replaces_value_and_ttl(cache: Cache) -> None:
    await cache.set("k", 1, ttl=0.1)
    await cache.set("k", 2, ttl=60)
    await asyncio.sleep(0.2)
    assert await cache.get("k") == 2


async def test_delete_counts_existing_keys(cache: Cache) -> None:
    await cache.set("a", 1, ttl=60)
    await cache.set("b", 2, ttl=60)
    assert await cache.delete("a", "b", "c") == 2
    assert await cache.get("a") is None
    assert await cache.delete() == 0
    assert await cache.delete("a") == 0


async def test_delete_prefix_removes_only_matching_keys(cache: Cache) -> None:
    for key in ("project:1", "project:1:files", "project:2", "projects", "metrics:1"):
        await cache.set(key, key, ttl=60)
    assert await cache.delete_prefix("project:") == 3
    assert await cache.get("project:1") is None
    assert await cache.get("project:2") is None
    assert await cache.get("projects") == "projects"
    assert await cache.get("metrics:1") == "metrics:1"


async def test_delete_prefix_treats_glob_characters_literally(cache: Cache) -> None:
    for key in ("a*b:1", "axb:1", "a?b:1", "a[x]b:1", "a\\b:1"):
        await cache.set(key, 1, ttl=60)
    assert await cache.delete_prefix("a*b:") == 1
    assert await cache.delete_prefix("a[x]") == 1
    assert await cache.delete_prefix("a\\") == 1
    assert await cache.get("axb:1") == 1
    assert await cache.get("a?b:1") == 1


async def test_delete_prefix_handles_many_keys_in_batches(cache: Cache) -> None:
    for i in range(1200):
        await cache.set(f"bulk:{i}", i, ttl=60)
    await cache.set("keep", 1, ttl=60)
    assert await cache.delete_prefix("bulk:") == 1200
    assert await cache.get("bulk:7") is None
    assert await cache.get("keep") == 1


async def test_namespaces_are_isolated(cache: Cache) -> None:
    other = (
        MemoryCache(f"other:{uuid.uuid4().hex}")
        if isinstance(cache, MemoryCache)
        else RedisCache(await connect_redis(), f"other:{uuid.uuid4().hex}")
    )
    try:
        await cache.set("k", "mine", ttl=60)
        await other.set("k", "theirs", ttl=60)
        assert await cache.delete_prefix("") == 1
        assert await other.get("k") == "theirs"
    finally:
        await other.delete_prefix("")
        await other.close()


async def test_get_or_set_calls_factory_once_for_concurrent_misses(cache: Cache) -> None:
    calls = 0

    async def factory() -> dict[str, object]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return {"n": calls, "t": (1, 2)}

    results = await asyncio.gather(*(cache.get_or_set("hot", factory, ttl=60) for _ in range(10)))
    assert calls == 1
    # The miss answers in the same JSON shape as a later hit (tuple -> list).
    assert results == [{"n": 1, "t": [1, 2]}] * 10
    assert await cache.get_or_set("hot", factory, ttl=60) == {"n": 1, "t": [1, 2]}
    assert calls == 1


async def test_get_or_set_propagates_factory_errors_without_caching(cache: Cache) -> None:
    async def failing() -> int:
        raise RuntimeError("database down")

    async def working() -> int:
        return 7

    with pytest.raises(RuntimeError, match="database down"):
        await cache.get_or_set("k", failing, ttl=60)
    assert await cache.get("k") is None
    assert await cache.get_or_set("k", working, ttl=60) == 7


async def test_get_or_set_refills_after_expiry(cache: Cache) -> None:
    values = iter([1, 2])

    async def factory() -> int:
        return next(values)

    assert await cache.get_or_set("k", factory, ttl=0.1) == 1
    await asyncio.sleep(0.2)
    assert await cache.get_or_set("k", factory, ttl=60) == 2


async def test_ping(cache: Cache) -> None:
    assert await cache.ping() is True


async def test_empty_namespace_is_refused() -> None:
    with pytest.raises(ValueError, match="namespace"):
        MemoryCache("")
    with pytest.raises(ValueError, match="namespace"):
        MemoryCache(":")


async def test_trailing_colon_in_namespace_is_not_doubled() -> None:
    redis_cache = RedisCache(await connect_redis(), f"forgekit-test:{uuid.uuid4().hex}:")
    try:
        await redis_cache.set("k", 1, ttl=60)
        assert await redis_cache.client.exists(f"{redis_cache.namespace}:k") == 1
        assert "::" not in redis_cache.namespace + ":k"
    finally:
        await redis_cache.delete_prefix("")
        await redis_cache.close()


# --- in-process backend specifics -------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_expiry_uses_the_monotonic_clock() -> None:
    clock = FakeClock()
    memory = MemoryCache("ns", clock=clock)
    await memory.set("k", 1, ttl=10)
    clock.now += 9.999
    assert await memory.get("k") == 1
    clock.now += 0.001
    assert await memory.get("k") is None
    assert len(memory) == 0


async def test_memory_is_a_bounded_lru() -> None:
    memory = MemoryCache("ns", max_entries=3)
    for key in ("a", "b", "c"):
        await memory.set(key, key, ttl=60)
    assert await memory.get("a") == "a"  # now most recently used
    await memory.set("d", "d", ttl=60)
    assert len(memory) == 3
    assert await memory.get("b") is None
    assert [await memory.get(k) for k in ("a", "c", "d")] == ["a", "c", "d"]


async def test_memory_evicts_expired_entries_before_live_ones() -> None:
    clock = FakeClock()
    memory = MemoryCache("ns", max_entries=2, clock=clock)
    await memory.set("live", 1, ttl=100)
    await memory.set("dying", 2, ttl=1)
    clock.now += 2
    await memory.set("new", 3, ttl=100)
    assert await memory.get("live") == 1
    assert await memory.get("new") == 3


async def test_memory_returns_copies() -> None:
    memory = MemoryCache("ns")
    await memory.set("k", {"list": [1]}, ttl=60)
    got = await memory.get("k")
    got["list"].append(2)
    assert await memory.get("k") == {"list": [1]}


# --- Redis backend specifics ------------------------------------------------------------------


async def test_redis_stores_namespaced_json_with_ttl() -> None:
    redis_cache = RedisCache(await connect_redis(), f"forgekit-test:{uuid.uuid4().hex}")
    try:
        await redis_cache.set("project:1", {"id": 1}, ttl=300)
        raw_key = f"{redis_cache.namespace}:project:1"
        assert await redis_cache.client.get(raw_key) == b'{"id":1}'
        assert 299_000 < await redis_cache.client.pttl(raw_key) <= 300_000
    finally:
        await redis_cache.delete_prefix("")
        await redis_cache.close()


async def test_redis_ping_reports_unreachable_server() -> None:
    unreachable = RedisCache.from_url("redis://127.0.0.1:1/0", "ns", socket_connect_timeout=1)
    try:
        assert await unreachable.ping() is False
    finally:
        await unreachable.close()


async def test_create_cache_picks_the_backend() -> None:
    assert isinstance(create_cache(None, "ns"), MemoryCache)
    redis_cache = create_cache(REDIS_URL, f"forgekit-test:{uuid.uuid4().hex}")
    try:
        assert isinstance(redis_cache, RedisCache)
        assert await redis_cache.ping() is True
    finally:
        await redis_cache.close()


def test_escape_glob() -> None:
    assert escape_glob("a*b?[c]\\") == "a\\*b\\?\\[c\\]\\\\"


# --- key parts ---------------------------------------------------------------------------


def test_cache_key_joins_checked_parts() -> None:
    assert cache_key("user", "session", 7) == "user:session:7"


@pytest.mark.parametrize("bad", ["", "a:b"])
def test_cache_key_refuses_ambiguous_parts(bad: str) -> None:
    with pytest.raises(ValueError, match="key part"):
        cache_key("project", bad)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_codec_round_trips_every_json_value(value: object) -> None:
    assert decode(encode(value)) == value
