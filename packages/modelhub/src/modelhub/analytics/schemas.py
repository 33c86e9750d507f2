"""Response bodies of the analytics endpoints (money in integer minor units)."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T", bound=BaseModel)


class PublisherRow(BaseModel):
    """One of the publisher's models in one period."""

    period: datetime
    model: str
    calls: int
    errors: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    billable_calls: int
    #: What consumers were charged, and the publisher's share of it (minor units).
    revenue: int
    publisher_revenue: int
    currency: str


class SpendRow(BaseModel):
    """What the consumer spent on one model in one period."""

    period: datetime
    model: str
    calls: int
    billable_calls: int
    spend: int
    currency: str


class TopModel(BaseModel):
    """A public model ranked by calls in the window."""

    model: str
    calls: int
    consumers: int


class AnalyticsReport(BaseModel, Generic[T]):
    """Rows of one report over ``[start, end)``."""

    start: datetime
    end: datetime
    rows: list[T]
