"""Where carts live: a Redis hash per cart (variant id → quantity), or a dict in-process.

Every change is one atomic server-side step (a Lua script on Redis), so two tabs adding to one
cart at once both count, and a merge at sign-in moves every line exactly once.
"""

from __future__ import annotations

import abc
import asyncio
import time
import uuid
from typing import Any

from forgekit.redis_client import redis_from_url

# KEYS[1]: cart. ARGV: variant, delta, max, ttl. Adds delta, clamps to [0, max]; 0 deletes.
_ADD = """
local q = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if q > tonumber(ARGV[3]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
if q <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return redis.call('HGETALL', KEYS[1])
"""
# KEYS[1]: cart. ARGV: variant, quantity, max, ttl. Sets the line (clamped); 0 deletes.
_SET = """
local q = math.min(tonumber(ARGV[2]), tonumber(ARGV[3]))
if q <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], q) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return redis.call('HGETALL', KEYS[1])
"""
# KEYS[1]: source, KEYS[2]: target. ARGV: max, ttl. Adds every source line, deletes the source.
_MERGE = """
local src = redis.call('HGETALL', KEYS[1])
for i = 1, #src, 2 do
  local q = redis.call('HINCRBY', KEYS[2], src[i], src[i + 1])
  if q > tonumber(ARGV[1]) then redis.call('HSET', KEYS[2], src[i], ARGV[1]) end
end
redis.call('DEL', KEYS[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return redis.call('HGETALL', KEYS[2])
"""

Lines = dict[uuid.UUID, int]


class CartStore(abc.ABC):
    """Carts by id (``u:<user id>`` or ``a:<anonymous token>``)."""

    def __init__(self, max_quantity: int, ttl_s: int) -> None:
        self.max_quantity, self.ttl_s = max_quantity, ttl_s

    @abc.abstractmethod
    async def lines(self, cart: str) -> Lines:
        """The cart's lines (empty when it does not exist)."""

    @abc.abstractmethod
    async def add(self, cart: str, variant_id: uuid.UUID, delta: int) -> Lines:
        """Add ``delta`` (may be negative) to a line, clamped to ``[0, max_quantity]``."""

    @abc.abstractmethod
    async def set(self, cart: str, variant_id: uuid.UUID, quantity: int) -> Lines:
        """Set a line's quantity (0 removes it), clamped to ``max_quantity``."""

    @abc.abstractmethod
    async def merge(self, source: str, target: str) -> Lines:
        """Move every line of ``source`` into ``target`` (quantities add up)."""

    @abc.abstractmethod
    async def clear(self, cart: str) -> None:
        """Empty the cart."""

    async def close(self) -> None:  # noqa: B027  (nothing to release in memory)
        """Release connections."""


class MemoryCartStore(CartStore):
    """Carts in this process (the embedded default); each call runs without yielding."""

    def __init__(self, max_quantity: int, ttl_s: int) -> None:
        super().__init__(max_quantity, ttl_s)
        self._carts: dict[str, tuple[float, Lines]] = {}
        self._lock = asyncio.Lock()

    def _live(self, cart: str) -> Lines:
        expiry, lines = self._carts.get(cart, (0.0, {}))
        return lines if expiry > time.monotonic() else {}

    def _keep(self, cart: str, lines: Lines) -> Lines:
        self._carts[cart] = (time.monotonic() + self.ttl_s, lines)
        return dict(lines)

    async def lines(self, cart: str) -> Lines:
        """The cart's lines."""
        return dict(self._live(cart))

    async def add(self, cart: str, variant_id: uuid.UUID, delta: int) -> Lines:
        """Add to a line (clamped)."""
        async with self._lock:
            lines = self._live(cart)
            quantity = min(lines.get(variant_id, 0) + delta, self.max_quantity)
            if quantity > 0:
                lines[variant_id] = quantity
            else:
                lines.pop(variant_id, None)
            return self._keep(cart, lines)

    async def set(self, cart: str, variant_id: uuid.UUID, quantity: int) -> Lines:
        """Set a line (clamped)."""
        async with self._lock:
            lines = self._live(cart)
            lines.pop(variant_id, None)
            if quantity > 0:
                lines[variant_id] = min(quantity, self.max_quantity)
            return self._keep(cart, lines)

    async def merge(self, source: str, target: str) -> Lines:
        """Move ``source``'s lines into ``target``."""
        async with self._lock:
            lines = self._live(target)
            for variant_id, quantity in self._live(source).items():
                lines[variant_id] = min(lines.get(variant_id, 0) + quantity, self.max_quantity)
            self._carts.pop(source, None)
            return self._keep(target, lines)

    async def clear(self, cart: str) -> None:
        """Empty the cart."""
        self._carts.pop(cart, None)


class RedisCartStore(CartStore):
    """Carts as Redis hashes under ``<prefix>cart:<id>``."""

    def __init__(self, url: str, prefix: str, max_quantity: int, ttl_s: int) -> None:
        super().__init__(max_quantity, ttl_s)
        self._redis: Any = redis_from_url(url)
        self._prefix = prefix + "cart:"

    def _key(self, cart: str) -> str:
        return self._prefix + cart

    @staticmethod
    def _decode(flat: list[Any]) -> Lines:
        return {uuid.UUID(_text(flat[i])): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    async def lines(self, cart: str) -> Lines:
        """The cart's lines."""
        raw = await self._redis.hgetall(self._key(cart))
        return {uuid.UUID(_text(k)): int(v) for k, v in raw.items()}

    async def add(self, cart: str, variant_id: uuid.UUID, delta: int) -> Lines:
        """Add to a line (clamped), atomically."""
        flat = await self._redis.eval(
            _ADD, 1, self._key(cart), str(variant_id), delta, self.max_quantity, self.ttl_s
        )
        return self._decode(flat)

    async def set(self, cart: str, variant_id: uuid.UUID, quantity: int) -> Lines:
        """Set a line (clamped), atomically."""
        flat = await self._redis.eval(
            _SET, 1, self._key(cart), str(variant_id), quantity, self.max_quantity, self.ttl_s
        )
        return self._decode(flat)

    async def merge(self, source: str, target: str) -> Lines:
        """Move ``source``'s lines into ``target``, atomically."""
        flat = await self._redis.eval(
            _MERGE, 2, self._key(source), self._key(target), self.max_quantity, self.ttl_s
        )
        return self._decode(flat)

    async def clear(self, cart: str) -> None:
        """Empty the cart."""
        await self._redis.delete(self._key(cart))

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def create_cart_store(
    redis_url: str | None, prefix: str, max_quantity: int, ttl_s: int
) -> CartStore:
    """Redis when a URL is configured, else in-process."""
    if redis_url:
        return RedisCartStore(redis_url, prefix, max_quantity, ttl_s)
    return MemoryCartStore(max_quantity, ttl_s)
