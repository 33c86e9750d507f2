"""Usage reports from the hourly aggregates: sums per model and period, free tier applied.

The free tier is monthly: within a month, a model's first ``free_calls_per_month`` calls of
a consumer are free, in the order of the hours they fell in. Sums start at the month of the
report's start so that a report of the 20th still knows what the 1st to the 19th used.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from modelhub.registry.models import MarketModel
from modelhub.usage.models import UsageHourly
from modelhub.usage.schemas import Granularity, UsageRow
from modelhub.usage.service import month_start


def period_of(hour: datetime, granularity: Granularity) -> datetime:
    """The start of the period ``hour`` belongs to."""
    if granularity is Granularity.HOUR:
        return hour
    if granularity is Granularity.DAY:
        return hour.replace(hour=0)
    return month_start(hour)


@dataclass
class _Sum:
    calls: int = 0
    items: int = 0
    compute_ms: int = 0
    free: int = 0


def summarise(
    rows: Iterable[UsageHourly],
    slugs: dict[uuid.UUID, str],
    free_tiers: dict[uuid.UUID, int] | None,
    granularity: Granularity,
    start: datetime,
) -> list[UsageRow]:
    """Sum hourly rows (ordered by hour) into periods; with ``free_tiers`` (model id → free
    calls a month, consumer view) each row's free calls are counted per consumer and month."""
    used: dict[tuple[uuid.UUID, uuid.UUID, datetime], int] = defaultdict(int)
    sums: dict[tuple[datetime, uuid.UUID], _Sum] = defaultdict(_Sum)
    for row in sorted(rows, key=lambda r: r.hour):
        month = (row.consumer_id, row.model_id, month_start(row.hour))
        free = 0
        if free_tiers is not None:
            free = max(0, min(row.calls, free_tiers.get(row.model_id, 0) - used[month]))
        used[month] += row.calls
        if row.hour < start:
            continue  # counted only towards the month's free tier
        s = sums[(period_of(row.hour, granularity), row.model_id)]
        s.calls, s.items, s.compute_ms = s.calls + row.calls, s.items + row.items, \
            s.compute_ms + row.compute_ms  # fmt: skip
        s.free += free
    return [
        UsageRow(
            period=period,
            model=slugs.get(model_id, str(model_id)),
            calls=s.calls,
            items=s.items,
            compute_ms=s.compute_ms,
            free_calls=s.free,
            billable_calls=s.calls - s.free if free_tiers is not None else 0,
        )
        for (period, model_id), s in sorted(
            sums.items(), key=lambda kv: (kv[0][0], slugs.get(kv[0][1], ""))
        )
    ]


def free_tiers(pool: dict[uuid.UUID, MarketModel]) -> dict[uuid.UUID, int]:
    """Model id → free calls a month."""
    return {i: int((m.pricing or {}).get("free_calls_per_month") or 0) for i, m in pool.items()}
