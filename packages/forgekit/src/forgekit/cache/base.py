"""The :class:`Cache` interface shared by the in-process and Redis backends."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

from forgekit.cache.codec import decode, encode


def _check_ttl(ttl: float | None) -> None:
    if ttl is not None and ttl <= 0:
        raise ValueError(f"ttl must be positive seconds or None, got {ttl!r}")


class Cache(ABC):
    """An async key/value cache of JSON values under one namespace.

    Every key is stored as ``"{namespace}:{key}"`` so products, tests and tenants sharing one
    Redis never see each other's entries. Values go through JSON (see
    :mod:`forgekit.cache.codec`), so what comes back is the JSON form: tuples read back as
    lists, datetimes and UUIDs as strings. ``None`` is indistinguishable from a miss.
    """

    def __init__(self, namespace: str) -> None:
        if not namespace.rstrip(":"):
            # An empty namespace would make ``delete_prefix("")`` wipe the whole database.
            raise ValueError("a cache needs a non-empty namespace")
        # "app:cache:" and "app:cache" mean the same namespace; never produce "::".
        self.namespace = namespace.rstrip(":")
        self._prefix = self.namespace + ":"
        self._inflight: dict[str, asyncio.Task[str]] = {}

    def _full_key(self, key: str) -> str:
        return self._prefix + key

    # Backend primitives work on full keys and encoded JSON text.
    @abstractmethod
    async def _get_raw(self, full_key: str) -> str | bytes | None: ...

    @abstractmethod
    async def _set_raw(self, full_key: str, text: str, ttl: float | None) -> None: ...

    @abstractmethod
    async def _delete_raw(self, full_keys: list[str]) -> int: ...

    @abstractmethod
    async def _delete_prefix_raw(self, full_prefix: str) -> int: ...

    @abstractmethod
    async def ping(self) -> bool:
        """Return ``True`` when the backend answers (a readiness probe)."""

    @abstractmethod
    async def close(self) -> None:
        """Release the backend's connections; the cache is unusable afterwards."""

    async def get(self, key: str) -> Any | None:
        """Return the cached value for ``key``, or ``None`` on a miss or after expiry."""
        text = await self._get_raw(self._full_key(key))
        return None if text is None else decode(text)

    async def set(self, key: str, value: Any, ttl: float | None) -> None:
        """Store ``value`` (JSON-serialisable, else ``TypeError``) for ``ttl`` seconds.

        ``ttl=None`` keeps the entry until it is deleted or evicted.
        """
        _check_ttl(ttl)
        await self._set_raw(self._full_key(key), encode(value), ttl)

    async def delete(self, *keys: str) -> int:
        """Delete ``keys``; return how many existed."""
        if not keys:
            return 0
        return await self._delete_raw([self._full_key(k) for k in keys])

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every key of this namespace starting with ``prefix``; return the count.

        This is the explicit invalidation helper, e.g. ``delete_prefix("project:42")`` after a
        project changes. An empty prefix clears the whole namespace.
        """
        return await self._delete_prefix_raw(self._full_key(prefix))

    async def get_or_set(
        self, key: str, factory: Callable[[], Awaitable[Any]], ttl: float | None
    ) -> Any:
        """Return the cached value, or await ``factory()``, cache its result and return it.

        Concurrent misses for one key in this process share a single ``factory`` call, so an
        expired hot key does not send a burst of identical queries to the database. The value
        returned on a miss is the JSON round trip of the factory's result, the same shape a
        later hit returns.
        """
        _check_ttl(ttl)
        full_key = self._full_key(key)
        text = await self._get_raw(full_key)
        if text is not None:
            return decode(text)
        task = self._inflight.get(full_key)
        if task is None:
            task = asyncio.ensure_future(self._fill(full_key, factory, ttl))
            self._inflight[full_key] = task
            task.add_done_callback(lambda _t: self._inflight.pop(full_key, None))
        # shield: one caller being cancelled must not cancel the fill the others wait for.
        return decode(await asyncio.shield(task))

    async def _fill(
        self, full_key: str, factory: Callable[[], Awaitable[Any]], ttl: float | None
    ) -> str:
        text = encode(await factory())
        await self._set_raw(full_key, text, ttl)
        return text
