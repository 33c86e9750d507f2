"""Prices to integer minor units: ``Decimal`` arithmetic, one rounding (half up) per line."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

#: Minor units per major unit (two-decimal currencies; the marketplace prices in one).
MINOR_PER_MAJOR = 100


def _price(pricing: dict[str, Any], key: str) -> Decimal:
    return Decimal(str(pricing.get(key) or 0))


def charge(pricing: dict[str, Any], billable_calls: int, compute_ms: int) -> int:
    """What ``billable_calls`` (and ``compute_ms`` of compute) cost, in minor units."""
    calls = _price(pricing, "price_per_1k_calls") * billable_calls / 1000
    compute = _price(pricing, "price_per_compute_second") * Decimal(compute_ms) / 1000
    total = (calls + compute) * MINOR_PER_MAJOR
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def share(amount: int, bps: int) -> int:
    """``bps`` basis points of ``amount`` (minor units), rounded down: the remainder stays
    with the marketplace, so shares never add up to more than was charged."""
    return amount * bps // 10_000
