"""Money as integer minor units plus an ISO 4217 currency code (lower-case, as Stripe writes it).

Floats never carry money: 0.1 + 0.2 is not 0.3. An amount is a count of the currency's minor
unit (cents for ``usd``, yen for ``jpy``); negative amounts are credits (proration, refunds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CURRENCY = re.compile(r"^[a-z]{3}$")


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in the currency's minor unit and its lower-case ISO 4217 code."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        # bool is an int subclass; True cents is a bug, not an amount.
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        currency = self.currency.lower()
        if not _CURRENCY.match(currency):
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")
        object.__setattr__(self, "currency", currency)

    def __add__(self, other: Money) -> Money:
        """The sum; both sides must share the currency."""
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        """The difference; both sides must share the currency."""
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        """The opposite amount (a credit for a charge)."""
        return Money(-self.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")
