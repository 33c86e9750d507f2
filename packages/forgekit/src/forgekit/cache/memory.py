"""In-process cache: the embedded default when no Redis URL is configured."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from forgekit.cache.base import Cache


class MemoryCache(Cache):
    """A bounded LRU of JSON text with per-entry expiry on a monotonic clock.

    Values are stored encoded, so a caller mutating a returned object never changes the cached
    one, and the JSON-only rule is the same as with Redis. Every operation runs without an
    ``await`` in between, so it is atomic with respect to other tasks on the event loop.
    """

    def __init__(
        self,
        namespace: str,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(namespace)
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        # The wall clock can jump (NTP, DST); expiry must not.
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float | None, str]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def _get_raw(self, full_key: str) -> str | None:
        entry = self._entries.get(full_key)
        if entry is None:
            return None
        expires_at, text = entry
        if expires_at is not None and expires_at <= self._clock():
            del self._entries[full_key]
            return None
        self._entries.move_to_end(full_key)
        return text

    async def _set_raw(self, full_key: str, text: str, ttl: float | None) -> None:
        expires_at = None if ttl is None else self._clock() + ttl
        self._entries[full_key] = (expires_at, text)
        self._entries.move_to_end(full_key)
        if len(self._entries) > self.max_entries:
            self._evict()

    def _evict(self) -> None:
        # Expired entries go first, so a burst of short-lived keys does not push out live ones;
        # then the least recently used until the bound holds.
        now = self._clock()
        expired = [k for k, (exp, _) in self._entries.items() if exp is not None and exp <= now]
        for key in expired:
            del self._entries[key]
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def _delete_raw(self, full_keys: list[str]) -> int:
        now = self._clock()
        count = 0
        for key in full_keys:
            entry = self._entries.pop(key, None)
            if entry is not None and (entry[0] is None or entry[0] > now):
                count += 1
        return count

    async def _delete_prefix_raw(self, full_prefix: str) -> int:
        doomed = [k for k in self._entries if k.startswith(full_prefix)]
        return await self._delete_raw(doomed)

    async def ping(self) -> bool:
        """Always ``True``: the in-process cache has nothing to reach."""
        return True

    async def close(self) -> None:
        """Drop every entry."""
        self._entries.clear()
