"""In-process rate limiter: the embedded default, exact for a single API process."""

from __future__ import annotations

import time
from collections.abc import Callable

from forgekit.ratelimit.base import RateLimiter
from forgekit.ratelimit.decision import RateLimitDecision
from forgekit.ratelimit.gcra import check_cost, gcra_step
from forgekit.ratelimit.rate import Rate

_MIN_SWEEP = 1024


class MemoryRateLimiter(RateLimiter):
    """GCRA state in a dict; each operation runs without an ``await``, so it is atomic."""

    def __init__(self, namespace: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(namespace)
        # Monotonic: a wall-clock step backwards must not hand out extra quota.
        self._clock = clock
        self._tats: dict[str, int] = {}
        self._sweep_at = _MIN_SWEEP

    def _now_us(self) -> int:
        return int(self._clock() * 1_000_000)

    async def hit(self, key: str, rate: Rate, cost: int = 1) -> RateLimitDecision:
        """See :meth:`RateLimiter.hit`."""
        check_cost(rate, cost)
        full_key = self._full_key(key)
        now = self._now_us()
        result = gcra_step(self._tats.get(full_key), now, rate, cost, commit=True)
        if result.new_tat_us is not None:
            self._tats[full_key] = result.new_tat_us
            if len(self._tats) >= self._sweep_at:
                self._sweep(now)
        return result.decision

    async def peek(self, key: str, rate: Rate) -> RateLimitDecision:
        """See :meth:`RateLimiter.peek`."""
        tat = self._tats.get(self._full_key(key))
        return gcra_step(tat, self._now_us(), rate, 1, commit=False).decision

    async def reset(self, key: str) -> None:
        """See :meth:`RateLimiter.reset`."""
        self._tats.pop(self._full_key(key), None)

    def _sweep(self, now_us: int) -> None:
        # A TAT in the past means "full quota", the same as no entry, so it can go. Sweeping
        # only when the dict doubles keeps the cost amortised O(1) per hit, and the size bounded
        # by the keys active within one period.
        self._tats = {k: tat for k, tat in self._tats.items() if tat > now_us}
        self._sweep_at = max(_MIN_SWEEP, 2 * len(self._tats))

    async def ping(self) -> bool:
        """Always ``True``."""
        return True

    async def close(self) -> None:
        """Forget every key."""
        self._tats.clear()
