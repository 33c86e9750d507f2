"""The rules engine: staff-editable thresholds on order features, each hit explained.

A rule compares one feature with a threshold and adds its weight to the rules score (capped
at 1). Rules are plain data (JSON in the ``fraud_rules`` table), validated here, so staff
change thresholds and weights without a deploy.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from shop.ml.fraud.features import FEATURE_NAMES

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Rule:
    """``feature op threshold`` adds ``weight``; ``message`` explains a hit."""

    name: str
    feature: str
    op: str
    threshold: float
    weight: float
    message: str
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.feature not in FEATURE_NAMES:
            raise ValueError(f"rule {self.name!r}: unknown feature {self.feature!r}")
        if self.op not in _OPS:
            raise ValueError(f"rule {self.name!r}: unknown operator {self.op!r}")
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"rule {self.name!r}: weight must be within 0..1")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Rule:
        """Validate a stored or submitted rule."""
        return cls(
            name=str(data["name"]), feature=str(data["feature"]), op=str(data["op"]),
            threshold=float(data["threshold"]), weight=float(data["weight"]),
            message=str(data.get("message") or data["name"]),
            enabled=bool(data.get("enabled", True)),
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class RuleHit:
    """One rule that fired on an order, with the value that made it fire."""

    rule: str
    value: float
    threshold: float
    weight: float
    explanation: str


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("amount_spike", "amount_vs_history", ">=", 4.0, 0.35,
         "amount is {value:.1f}x the customer's usual order"),
    Rule("velocity", "orders_last_hour", ">=", 3.0, 0.4,
         "{value:.0f} orders from this customer in the last hour"),
    Rule("new_device_and_address", "new_device", ">=", 1.0, 0.2,
         "order from a device this customer never used"),
    Rule("new_address", "new_address", ">=", 1.0, 0.15,
         "shipping to an address this customer never used"),
    Rule("country_mismatch", "country_mismatch", ">=", 1.0, 0.25,
         "shipping country differs from the billing country"),
    Rule("ip_mismatch", "ip_mismatch", ">=", 1.0, 0.2,
         "paying from another country than the billing one"),
    Rule("night_order", "night", ">=", 1.0, 0.1, "placed between 01:00 and 05:00"),
    Rule("fresh_account", "account_age_days", "<", 1.0, 0.15, "account younger than a day"),
)  # fmt: skip


class RulesEngine:
    """Evaluates enabled rules on feature vectors."""

    def __init__(self, rules: Sequence[Rule] = DEFAULT_RULES) -> None:
        self.rules = [r for r in rules if r.enabled]
        self._index = {name: i for i, name in enumerate(FEATURE_NAMES)}

    def hits(self, features: np.ndarray) -> list[RuleHit]:
        """The rules that fire on one order's features, each explained."""
        out = []
        for rule in self.rules:
            value = float(features[self._index[rule.feature]])
            if _OPS[rule.op](value, rule.threshold):
                text = rule.message.format(value=value, threshold=rule.threshold)
                out.append(RuleHit(rule.name, value, rule.threshold, rule.weight, text))
        return out

    def score(self, features: np.ndarray) -> float:
        """Summed weight of the hits, capped at 1."""
        return min(1.0, sum(h.weight for h in self.hits(features)))

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        """Rules score of every row."""
        return np.array([self.score(row) for row in matrix], dtype=np.float64)
