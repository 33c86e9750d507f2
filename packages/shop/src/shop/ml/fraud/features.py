"""Order features computed from the customer's earlier orders only (point-in-time).

:class:`CustomerState` is what the features need about one customer's earlier orders and
:func:`order_features` the one definition of the features; :func:`featurize` walks orders in
time order and computes each order's features *before* adding it to the history, so no
feature sees its own order or a later one. At checkout the same state comes from the online
feature store (:mod:`shop.ml.features.online`), so training and scoring agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from shop.ml.fraud.data import OrderRow

HOUR = 3600.0
DAY = 24 * HOUR

FEATURE_NAMES: tuple[str, ...] = (
    "log_amount",
    "amount_vs_history",
    "orders_last_hour",
    "orders_last_day",
    "new_device",
    "new_address",
    "country_mismatch",
    "ip_mismatch",
    "hour_sin",
    "hour_cos",
    "night",
    "account_age_days",
    "first_order",
)


#: Amounts kept per customer for the median: the latest ones (bounded, so a customer's
#: online state stays small in Redis); training uses the same bound.
MAX_AMOUNTS = 100
#: Devices and addresses kept per customer (the most recent ones).
MAX_KEYS = 50


@dataclass
class CustomerState:
    """What the order features need about a customer's earlier orders: the order times of
    the last day (velocity), the latest amounts (median), devices and addresses seen.

    The one definition both paths share: training folds orders into it in time order
    (point-in-time), the online store keeps it per customer as JSON for scoring.
    """

    times: list[float] = field(default_factory=list)
    amounts: list[float] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)

    def add(self, order: OrderRow) -> None:
        """Record ``order`` as history for the customer's later orders."""
        # Velocity looks back one day at most.
        self.times = [t for t in self.times if t >= order.time - DAY] + [order.time]
        self.amounts = [*self.amounts, float(order.amount_minor)][-MAX_AMOUNTS:]
        self.devices = _remember(self.devices, order.device)
        self.addresses = _remember(self.addresses, order.address)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (floats round-trip exactly)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CustomerState:
        """Back from :meth:`to_json`."""
        return cls(
            times=[float(t) for t in data["times"]],
            amounts=[float(a) for a in data["amounts"]],
            devices=[str(d) for d in data["devices"]],
            addresses=[str(a) for a in data["addresses"]],
        )


def _remember(seen: list[str], key: str) -> list[str]:
    return [*(k for k in seen if k != key), key][-MAX_KEYS:]


def order_features(order: OrderRow, state: CustomerState | None) -> np.ndarray:
    """The feature vector of ``order`` given the customer's state before it (None: a first
    order)."""
    c = state or CustomerState()
    recent = [t for t in c.times if order.time - DAY <= t < order.time]
    median = float(np.median(c.amounts)) if c.amounts else 0.0
    hour = (order.time % DAY) / HOUR
    return np.array(
        [
            math.log1p(order.amount_minor / 100.0),
            order.amount_minor / median if median > 0 else 1.0,
            sum(1 for t in recent if t >= order.time - HOUR),
            len(recent),
            float(bool(c.devices) and order.device not in c.devices),
            float(bool(c.addresses) and order.address not in c.addresses),
            float(order.ship_country != order.bill_country),
            _ip_mismatch(order),
            math.sin(2 * math.pi * hour / 24),
            math.cos(2 * math.pi * hour / 24),
            float(1 <= hour < 5),
            max(0.0, (order.time - order.account_created) / DAY),
            float(not c.amounts),
        ],
        dtype=np.float32,
    )


def _ip_mismatch(order: OrderRow) -> float:
    # An unknown IP country ("") is no signal, not a mismatch.
    return float(bool(order.ip_country) and order.ip_country != order.bill_country)


class CustomerHistory:
    """Every customer's :class:`CustomerState`, for walking an order stream in time order."""

    def __init__(self) -> None:
        self._customers: dict[str, CustomerState] = {}

    def state(self, customer: str) -> CustomerState | None:
        """The customer's state so far (None: no order yet)."""
        return self._customers.get(customer)

    def features(self, order: OrderRow) -> np.ndarray:
        """The feature vector of ``order`` given only the history added so far."""
        return order_features(order, self._customers.get(order.customer))

    def add(self, order: OrderRow) -> None:
        """Record ``order`` as history for the customer's later orders."""
        self._customers.setdefault(order.customer, CustomerState()).add(order)


def featurize(orders: Iterable[OrderRow], history: CustomerHistory | None = None) -> np.ndarray:
    """Feature matrix of orders given in time order; ``history`` is extended as it goes."""
    history = history or CustomerHistory()
    rows = []
    for order in orders:
        rows.append(history.features(order))
        history.add(order)
    return np.vstack(rows) if rows else np.zeros((0, len(FEATURE_NAMES)), np.float32)
