"""Features defined once (name, entity, source, freshness) and computed point-in-time.

A feature reads an event log (:class:`Event`: entity, kind, time, value). For training,
:func:`offline` computes each (entity, as-of time) pair from the events strictly *before*
that time, so no feature can see data from after its label; for scoring,
:class:`OnlineStore` keeps the latest values in the kit's cache (Redis in production,
in-process embedded) for ``freshness`` seconds.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from forgekit.cache import Cache
from forgekit.cache.keys import cache_key

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Event:
    """One fact about an entity: an order (value = amount), a view, a purchase…"""

    entity: str
    kind: str
    time: float
    value: float = 1.0


Window = Sequence[Event]


@dataclass(frozen=True)
class FeatureDef:
    """A feature: ``compute`` maps the entity's events before ``as_of`` to a number."""

    name: str
    entity: str
    source: str
    freshness: float
    description: str
    compute: Callable[[Window, float], float]


def _count(kind: str, days: float) -> Callable[[Window, float], float]:
    def run(events: Window, as_of: float) -> float:
        return float(sum(1 for e in events if e.kind == kind and e.time >= as_of - days * DAY))

    return run


def _total(kind: str, days: float) -> Callable[[Window, float], float]:
    def run(events: Window, as_of: float) -> float:
        since = as_of - days * DAY
        return float(sum(e.value for e in events if e.kind == kind and e.time >= since))

    return run


def _days_since(kind: str) -> Callable[[Window, float], float]:
    def run(events: Window, as_of: float) -> float:
        times = [e.time for e in events if e.kind == kind]
        return (as_of - max(times)) / DAY if times else -1.0

    return run


def _conversion(days: float) -> Callable[[Window, float], float]:
    views, buys = _count("view", days), _count("purchase", days)

    def run(events: Window, as_of: float) -> float:
        v = views(events, as_of)
        return buys(events, as_of) / v if v else 0.0

    return run


ORDERS_SQL = "SELECT customer_id, 'order', placed_at, total_minor FROM orders"
EVENTS_SQL = "SELECT product_id, kind, occurred_at, 1 FROM analytics_events"

FEATURES: tuple[FeatureDef, ...] = (
    FeatureDef("customer_orders_30d", "customer", ORDERS_SQL, 3600, "orders in the last 30 days",
               _count("order", 30)),
    FeatureDef("customer_spend_30d", "customer", ORDERS_SQL, 3600,
               "order totals in the last 30 days, minor units", _total("order", 30)),
    FeatureDef("customer_days_since_order", "customer", ORDERS_SQL, 3600,
               "days since the previous order (-1: none)", _days_since("order")),
    FeatureDef("product_views_7d", "product", EVENTS_SQL, 900, "views in the last 7 days",
               _count("view", 7)),
    FeatureDef("product_purchases_30d", "product", EVENTS_SQL, 900,
               "purchases in the last 30 days", _count("purchase", 30)),
    FeatureDef("product_conversion_30d", "product", EVENTS_SQL, 900,
               "purchases per view in the last 30 days", _conversion(30)),
)  # fmt: skip

BY_NAME: dict[str, FeatureDef] = {f.name: f for f in FEATURES}


class EventLog:
    """Events grouped per entity and sorted by time, for fast as-of slicing."""

    def __init__(self, events: Iterable[Event]) -> None:
        grouped: dict[str, list[Event]] = defaultdict(list)
        for e in events:
            grouped[e.entity].append(e)
        self._events = {k: sorted(v, key=lambda e: e.time) for k, v in grouped.items()}
        self._times = {k: [e.time for e in v] for k, v in self._events.items()}

    def before(self, entity: str, as_of: float) -> Window:
        """The entity's events strictly before ``as_of`` (the point-in-time cut)."""
        times = self._times.get(entity)
        if not times:
            return []
        return self._events[entity][: bisect.bisect_left(times, as_of)]


def offline(
    features: Sequence[FeatureDef], log: EventLog, rows: Sequence[tuple[str, float]]
) -> list[dict[str, float]]:
    """Feature values for each (entity, as-of time) training row, point-in-time correct."""
    return [{f.name: f.compute(log.before(entity, as_of), as_of) for f in features}
            for entity, as_of in rows]  # fmt: skip


class OnlineStore:
    """Latest feature values in the kit's cache, expiring after each feature's freshness."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    async def materialize(
        self, features: Sequence[FeatureDef], log: EventLog, entities: Iterable[str], now: float
    ) -> int:
        """Compute every feature of every entity as of ``now`` and store it; returns the count."""
        n = 0
        for entity in entities:
            for f in features:
                value = f.compute(log.before(entity, now), now)
                await self.cache.set(cache_key("feature", f.name, entity), value, f.freshness)
                n += 1
        return n

    async def get(self, features: Sequence[FeatureDef], entity: str) -> dict[str, float | None]:
        """The stored values (``None`` where missing or expired: recompute or use a default)."""
        out: dict[str, float | None] = {}
        for f in features:
            value = await self.cache.get(cache_key("feature", f.name, entity))
            out[f.name] = None if value is None else float(value)
        return out
