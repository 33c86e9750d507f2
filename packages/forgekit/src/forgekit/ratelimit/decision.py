"""The outcome of one rate-limit check and its HTTP headers."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    """Whether a request may proceed, and the quota left for the client.

    ``reset_after_s`` is the time until the quota is fully restored; ``retry_after_s`` is the
    time until the denied request would be allowed (``0.0`` when allowed).
    """

    allowed: bool
    limit: int
    remaining: int
    reset_after_s: float
    retry_after_s: float


def headers(decision: RateLimitDecision) -> dict[str, str]:
    """HTTP headers for ``decision``.

    ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` (IETF httpapi
    ratelimit-headers draft, delta seconds) always; ``Retry-After`` when denied. Seconds round
    up, so a client that waits as told is never refused again for being early.
    """
    result = {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(max(0, decision.remaining)),
        "RateLimit-Reset": str(math.ceil(decision.reset_after_s)),
    }
    if not decision.allowed:
        result["Retry-After"] = str(max(1, math.ceil(decision.retry_after_s)))
    return result
