"""The GCRA step in Python; ``gcra.lua`` is the same algorithm run inside Redis.

All times are integer microseconds so both implementations compute exactly the same answers.
The state is one number per key: the theoretical arrival time (TAT) of the next request.
"""

from __future__ import annotations

from dataclasses import dataclass

from forgekit.ratelimit.decision import RateLimitDecision
from forgekit.ratelimit.rate import Rate


@dataclass(frozen=True, slots=True)
class GcraResult:
    """A decision plus the TAT to store (``None``: leave the state unchanged)."""

    decision: RateLimitDecision
    new_tat_us: int | None


def check_cost(rate: Rate, cost: int) -> None:
    """Refuse a cost the limiter could never grant, rather than deny it forever."""
    if cost < 1:
        raise ValueError(f"cost must be at least 1, got {cost}")
    if cost > rate.limit:
        raise ValueError(f"cost {cost} exceeds the rate's limit {rate.limit}")


def gcra_step(
    tat_us: int | None, now_us: int, rate: Rate, cost: int, *, commit: bool
) -> GcraResult:
    """Decide a request of ``cost`` at ``now_us`` given the stored TAT.

    With ``commit=False`` nothing is consumed (a peek) and ``remaining`` is the quota available
    now; with ``commit=True`` an allowed request advances the TAT and ``remaining`` is what is
    left after it.
    """
    interval, burst = rate.interval_us, rate.burst_us
    tat = now_us if tat_us is None or tat_us < now_us else tat_us
    available = (now_us - (tat - burst)) // interval
    new_tat = tat + interval * cost
    allow_at = new_tat - burst
    if now_us < allow_at:
        decision = RateLimitDecision(
            allowed=False,
            limit=rate.limit,
            remaining=available,
            reset_after_s=(tat - now_us) / 1e6,
            retry_after_s=(allow_at - now_us) / 1e6,
        )
        return GcraResult(decision, None)
    if not commit:
        decision = RateLimitDecision(True, rate.limit, available, (tat - now_us) / 1e6, 0.0)
        return GcraResult(decision, None)
    remaining = (now_us - allow_at) // interval
    decision = RateLimitDecision(True, rate.limit, remaining, (new_tat - now_us) / 1e6, 0.0)
    return GcraResult(decision, new_tat)
