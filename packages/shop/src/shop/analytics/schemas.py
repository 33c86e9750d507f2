"""The analytics reports' rows (each report is a list of them, so each is also a CSV)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel


class SalesDay(BaseModel):
    """One day's paid orders in one currency (money in minor units)."""

    day: str
    currency: str
    orders: int
    revenue: int
    units: int


class ProductSales(BaseModel):
    """One product's paid units and line revenue in one currency (minor units)."""

    product_id: uuid.UUID
    slug: str
    name: str
    currency: str
    orders: int
    units: int
    revenue: int


class FunnelStep(BaseModel):
    """Distinct visitors who reached a step, and the shares kept."""

    step: str
    visitors: int
    rate_from_previous: float
    rate_from_first: float


class AverageOrderValue(BaseModel):
    """Paid orders' mean total in one currency (minor units)."""

    currency: str
    orders: int
    revenue: int
    average: int


class CohortCell(BaseModel):
    """Of the customers whose first paid order fell in ``cohort``, how many paid for an
    order in ``month`` (``months_after`` later)."""

    cohort: str
    month: str
    months_after: int
    customers: int
    ordering: int
    rate: float
