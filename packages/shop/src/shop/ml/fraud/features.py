"""Order features computed from the customer's earlier orders only (point-in-time).

:class:`CustomerHistory` keeps, per customer, what the features need; :func:`featurize`
walks orders in time order and computes each order's features *before* adding it to the
history, so no feature sees its own order or a later one. The same history object scores
live orders at checkout.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

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


@dataclass
class _Customer:
    times: deque[float] = field(default_factory=deque)
    amounts: list[float] = field(default_factory=list)
    devices: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)


class CustomerHistory:
    """What each customer did before: recent order times, amounts, devices, addresses."""

    def __init__(self) -> None:
        self._customers: dict[str, _Customer] = {}

    def features(self, order: OrderRow) -> np.ndarray:
        """The feature vector of ``order`` given only the history added so far."""
        c = self._customers.get(order.customer) or _Customer()
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
                float(order.ip_country != order.bill_country),
                math.sin(2 * math.pi * hour / 24),
                math.cos(2 * math.pi * hour / 24),
                float(1 <= hour < 5),
                max(0.0, (order.time - order.account_created) / DAY),
                float(not c.amounts),
            ],
            dtype=np.float32,
        )

    def add(self, order: OrderRow) -> None:
        """Record ``order`` as history for the customer's later orders."""
        c = self._customers.setdefault(order.customer, _Customer())
        c.times.append(order.time)
        while c.times and c.times[0] < order.time - DAY:
            c.times.popleft()  # velocity looks back one day at most
        c.amounts.append(float(order.amount_minor))
        c.devices.add(order.device)
        c.addresses.add(order.address)


def featurize(orders: Iterable[OrderRow], history: CustomerHistory | None = None) -> np.ndarray:
    """Feature matrix of orders given in time order; ``history`` is extended as it goes."""
    history = history or CustomerHistory()
    rows = []
    for order in orders:
        rows.append(history.features(order))
        history.add(order)
    return np.vstack(rows) if rows else np.zeros((0, len(FEATURE_NAMES)), np.float32)
