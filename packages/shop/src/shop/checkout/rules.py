"""Tax and shipping as pluggable rules, each with one simple implementation.

A rule is any object with the method its protocol names; :func:`rules_from_settings` picks the
shop's. Amounts are integer minor units; rounding is half up, once, at the end of each rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Basket:
    """What the rules see: amounts after discount, total weight and the address."""

    subtotal: int
    discount: int
    weight_grams: int
    currency: str
    address: dict[str, Any]


class ShippingRule(Protocol):
    """Computes the shipping fee of a basket."""

    def shipping(self, basket: Basket) -> int:
        """The fee in minor units."""
        ...


class TaxRule(Protocol):
    """Computes the tax owed on a basket and its shipping."""

    def tax(self, basket: Basket, shipping: int) -> int:
        """The tax in minor units."""
        ...


def _half_up(numerator: int, denominator: int) -> int:
    return (numerator * 2 + denominator) // (denominator * 2)


@dataclass(frozen=True)
class WeightShipping:
    """A base fee plus a fee per started kilogram; free from ``free_from`` (after discount)."""

    base: int
    per_kg: int
    free_from: int

    def shipping(self, basket: Basket) -> int:
        """The fee."""
        if basket.subtotal - basket.discount >= self.free_from:
            return 0
        return self.base + self.per_kg * -(-basket.weight_grams // 1000)


@dataclass(frozen=True)
class FlatTax:
    """One rate (basis points) on the discounted subtotal plus shipping."""

    rate_bp: int

    def tax(self, basket: Basket, shipping: int) -> int:
        """The tax."""
        return _half_up((basket.subtotal - basket.discount + shipping) * self.rate_bp, 10_000)


def rules_from_settings(settings: Any) -> tuple[ShippingRule, TaxRule]:
    """The shop's rules from its settings."""
    return (
        WeightShipping(
            settings.shipping_base, settings.shipping_per_kg, settings.shipping_free_from
        ),
        FlatTax(settings.tax_rate_bp),
    )
