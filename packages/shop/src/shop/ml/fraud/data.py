"""The orders table fraud scoring takes: one row per order, in time order.

Any source of that shape works (the shop's orders, an export, the generator): customer,
amount in minor units, time in seconds, device and address identifiers, the billing,
shipping and IP countries (an empty IP country: unknown), and when known a fraud label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One order as fraud scoring sees it."""

    order_id: str
    customer: str
    amount_minor: int
    currency: str
    time: float
    device: str
    address: str
    bill_country: str
    ship_country: str
    ip_country: str
    account_created: float
    fraud: bool | None = None

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> OrderRow:
        """Build from a mapping with the field names (``fraud`` optional)."""
        fraud = row.get("fraud")
        return cls(
            str(row["order_id"]), str(row["customer"]), int(row["amount_minor"]),
            str(row["currency"]), float(row["time"]), str(row["device"]), str(row["address"]),
            str(row["bill_country"]), str(row["ship_country"]), str(row["ip_country"]),
            float(row["account_created"]), None if fraud is None else bool(fraud),
        )  # fmt: skip


def sorted_orders(rows: Iterable[OrderRow]) -> list[OrderRow]:
    """Orders by time (the features of an order only look at earlier ones)."""
    return sorted(rows, key=lambda r: (r.time, r.order_id))
