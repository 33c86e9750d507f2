"""Daily demand series per (product, warehouse), built from any table of dated quantities."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Series:
    """One regular series: values from ``start``, one per period (a day for the shop)."""

    key: str
    start: dt.date
    values: np.ndarray  # float64
    season: int = 7


def daily_series(rows: Iterable[Mapping[str, Any]], *, season: int = 7) -> list[Series]:
    """Sum ``quantity`` per ``product``/``warehouse``/``day`` into zero-filled daily series.

    Each series runs from the first to the last day seen anywhere in the table, so all
    series share one calendar (a product without sales on a day sold zero).
    """
    totals: dict[tuple[str, str], dict[dt.date, float]] = defaultdict(lambda: defaultdict(float))
    days: set[dt.date] = set()
    for row in rows:
        day = row["day"]
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        totals[(str(row["product"]), str(row["warehouse"]))][day] += float(row["quantity"])
        days.add(day)
    if not days:
        return []
    first, last = min(days), max(days)
    n = (last - first).days + 1
    out = []
    for (product, warehouse), per_day in sorted(totals.items()):
        values = np.zeros(n)
        for day, q in per_day.items():
            values[(day - first).days] = q
        out.append(Series(f"{product}@{warehouse}", first, values, season))
    return out
