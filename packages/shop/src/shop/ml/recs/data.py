"""The interactions table every recommender function takes, whatever produced it.

A row is (customer, product, kind, time): ``kind`` is ``view``, ``cart`` or ``purchase``,
``time`` seconds since the epoch. The shop's own events, a CSV export or the synthetic
generator all become an :class:`Interactions`; products carry one category each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: How much one event says about a taste (the ALS confidence adds these up).
KIND_WEIGHTS: dict[str, float] = {"view": 1.0, "cart": 3.0, "purchase": 6.0}


@dataclass(frozen=True)
class Interactions:
    """Parallel arrays of implicit events, customers and products as dense indices."""

    customer: np.ndarray  # int64
    product: np.ndarray  # int64
    weight: np.ndarray  # float32, from KIND_WEIGHTS
    time: np.ndarray  # float64 seconds
    purchase: np.ndarray  # bool: the event is a purchase
    n_customers: int
    n_products: int

    @classmethod
    def from_rows(
        cls, rows: Iterable[Mapping[str, Any]], *, n_customers: int, n_products: int
    ) -> Interactions:
        """Build from mappings with ``customer``, ``product``, ``kind`` and ``time`` keys.

        Unknown kinds raise ``ValueError`` rather than being counted as views.
        """
        cust, prod, weight, time, purchase = [], [], [], [], []
        for row in rows:
            kind = str(row["kind"])
            if kind not in KIND_WEIGHTS:
                raise ValueError(f"unknown interaction kind {kind!r}")
            cust.append(int(row["customer"]))
            prod.append(int(row["product"]))
            weight.append(KIND_WEIGHTS[kind])
            time.append(float(row["time"]))
            purchase.append(kind == "purchase")
        return cls(
            np.asarray(cust, np.int64), np.asarray(prod, np.int64),
            np.asarray(weight, np.float32), np.asarray(time, np.float64),
            np.asarray(purchase, bool), n_customers, n_products,
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.customer)

    def select(self, mask: np.ndarray) -> Interactions:
        """The events where ``mask`` holds, same index spaces."""
        return Interactions(
            self.customer[mask], self.product[mask], self.weight[mask], self.time[mask],
            self.purchase[mask], self.n_customers, self.n_products,
        )  # fmt: skip

    def split_at(self, cutoff: float) -> tuple[Interactions, Interactions]:
        """Time-based split: events before ``cutoff`` and events at or after it."""
        before = self.time < cutoff
        return self.select(before), self.select(~before)

    def cutoff_for(self, test_share: float) -> float:
        """The time that leaves the last ``test_share`` of events on the test side."""
        return float(np.quantile(self.time, 1.0 - test_share))


@dataclass(frozen=True)
class Catalogue:
    """One category index per product (``-1`` when unknown)."""

    category: np.ndarray  # int64, length n_products

    @property
    def n_categories(self) -> int:
        """Number of distinct known categories."""
        known = self.category[self.category >= 0]
        return int(known.max()) + 1 if len(known) else 0
