"""Response bodies of usage metering."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel


class Granularity(StrEnum):
    """The period usage is summed over."""

    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


class UsageRow(BaseModel):
    """Calls of one model in one period (of the caller, or of the publisher's consumers)."""

    period: datetime
    model: str
    calls: int
    items: int
    compute_ms: int
    #: Calls covered by the model's monthly free tier (consumer view).
    free_calls: int
    #: Calls past the free tier: what is billed (consumer view).
    billable_calls: int


class UsageReport(BaseModel):
    """``GET /api/v1/usage``."""

    start: datetime
    end: datetime
    granularity: Granularity
    rows: list[UsageRow]
