"""The :class:`RateLimiter` interface."""

from __future__ import annotations

from abc import ABC, abstractmethod

from forgekit.ratelimit.decision import RateLimitDecision
from forgekit.ratelimit.rate import Rate


class RateLimiter(ABC):
    """Counts requests per key against a :class:`Rate` (GCRA), under one namespace.

    Keys are whatever the caller chooses, typically ``"{scope}:{principal}"`` such as
    ``"login:ip:203.0.113.7"``; the namespace keeps products and tests apart.
    """

    def __init__(self, namespace: str) -> None:
        if not namespace.rstrip(":"):
            raise ValueError("a rate limiter needs a non-empty namespace")
        # "app:cache:" and "app:cache" mean the same namespace; never produce "::".
        self.namespace = namespace.rstrip(":")
        self._prefix = self.namespace + ":"

    def _full_key(self, key: str) -> str:
        return self._prefix + key

    @abstractmethod
    async def hit(self, key: str, rate: Rate, cost: int = 1) -> RateLimitDecision:
        """Consume ``cost`` from ``key``'s quota if available; return the decision.

        A denied hit consumes nothing, so a client hammering while limited is let back in as
        soon as its quota refills.
        """

    @abstractmethod
    async def peek(self, key: str, rate: Rate) -> RateLimitDecision:
        """Report, without consuming, whether one hit would be allowed and the quota left now.

        Used before an expensive check, e.g. refuse a login attempt outright while the
        failed-login quota of an account is exhausted.
        """

    @abstractmethod
    async def reset(self, key: str) -> None:
        """Forget ``key``'s usage (e.g. after a successful login)."""

    @abstractmethod
    async def ping(self) -> bool:
        """Return ``True`` when the backend answers."""

    @abstractmethod
    async def close(self) -> None:
        """Release the backend's connections."""
