"""Analytics from the hourly aggregates and the usage events: the publisher's dashboard
(calls, errors, latency p50/p95, revenue per model and period), consumer spend, top models."""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from modelhub.analytics.money import charge, share
from modelhub.analytics.schemas import PublisherRow, SpendRow, TopModel
from modelhub.registry.models import MarketModel
from modelhub.settings import ModelhubSettings
from modelhub.usage.models import UsageHourly
from modelhub.usage.report import free_tiers, period_of, summarise
from modelhub.usage.repository import UsageRepository, hour_of
from modelhub.usage.schemas import Granularity, UsageRow
from modelhub.usage.service import month_start

#: Most calls whose latencies one report reads (beyond, percentiles come from a sample).
MAX_LATENCY_ROWS = 200_000


def _percentiles(values: list[int]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return float(values[0]), float(values[0])
    q = statistics.quantiles(values, n=100, method="inclusive")
    return float(statistics.median(values)), float(q[94])


Key = tuple[datetime, str]


def _errors(
    hours: list[UsageHourly], slugs: dict[uuid.UUID, str], start: datetime, granularity: Granularity
) -> dict[Key, int]:
    out: dict[Key, int] = defaultdict(int)
    for h in hours:
        if h.hour >= start and h.errors:
            out[(period_of(h.hour, granularity), slugs[h.model_id])] += h.errors
    return out


def _latencies(
    samples: list[tuple[uuid.UUID, datetime, int]],
    slugs: dict[uuid.UUID, str],
    granularity: Granularity,
) -> dict[Key, list[int]]:
    out: dict[Key, list[int]] = defaultdict(list)
    for model_id, at, ms in samples:
        out[(period_of(hour_of(at), granularity), slugs[model_id])].append(ms)
    return out


def _publisher_row(
    key: Key, total: UsageRow | None, paid: UsageRow | None, errors: int, latencies: list[int],
    model: MarketModel, settings: ModelhubSettings,
) -> PublisherRow:  # fmt: skip
    billable = paid.billable_calls if paid else 0
    revenue = charge(model.pricing or {}, billable, paid.compute_ms if paid else 0)
    p50, p95 = _percentiles(latencies)
    return PublisherRow(
        period=key[0], model=key[1], calls=total.calls if total else 0, errors=errors,
        latency_p50_ms=p50, latency_p95_ms=p95, billable_calls=billable, revenue=revenue,
        publisher_revenue=share(revenue, settings.publisher_share_bps), currency=settings.currency,
    )  # fmt: skip


class AnalyticsService:
    """Read-only reports."""

    async def publisher(
        self, session: AsyncSession, settings: ModelhubSettings, owner_id: uuid.UUID,
        start: datetime, end: datetime, granularity: Granularity,
    ) -> list[PublisherRow]:  # fmt: skip
        """Per model of ``owner_id`` and period: calls, errors, latency, revenue."""
        owned = await session.execute(
            select(MarketModel).where(MarketModel.owner_id == owner_id,
                                      MarketModel.deleted_at.is_(None)))  # fmt: skip
        pool = {m.id: m for m in owned.scalars()}
        if not pool:
            return []
        repo = UsageRepository(session)
        hours = await repo.hours(None, list(pool), month_start(start), end)
        slugs = {i: m.slug for i, m in pool.items()}
        # The publisher's own calls are never charged.
        paying = [h for h in hours if h.consumer_id != owner_id]
        tiers = free_tiers(pool)
        billed = {
            (r.period, r.model): r for r in summarise(paying, slugs, tiers, granularity, start)
        }
        totals = {(r.period, r.model): r for r in summarise(hours, slugs, None, granularity, start)}
        errors = _errors(hours, slugs, start, granularity)
        latencies = _latencies(
            await repo.latencies(list(pool), start, end, MAX_LATENCY_ROWS), slugs, granularity
        )
        by_slug = {m.slug: m for m in pool.values()}
        return [
            _publisher_row(
                key,
                totals.get(key),
                billed.get(key),
                errors.get(key, 0),
                latencies.get(key, []),
                by_slug[key[1]],
                settings,
            )
            for key in sorted(set(totals) | set(errors))
        ]

    async def spend(
        self, session: AsyncSession, settings: ModelhubSettings, consumer_id: uuid.UUID,
        start: datetime, end: datetime, granularity: Granularity,
    ) -> list[SpendRow]:  # fmt: skip
        """What the consumer spent per model and period (free tiers applied)."""
        hours = await UsageRepository(session).hours(consumer_id, None, month_start(start), end)
        ids = {h.model_id for h in hours}
        found = await session.execute(select(MarketModel).where(MarketModel.id.in_(ids)))
        pool = {m.id: m for m in found.scalars() if m.owner_id != consumer_id}
        hours = [h for h in hours if h.model_id in pool]
        slugs = {i: m.slug for i, m in pool.items()}
        tiers = free_tiers(pool)
        by_slug = {m.slug: m for m in pool.values()}
        return [
            SpendRow(
                period=r.period,
                model=r.model,
                calls=r.calls,
                billable_calls=r.billable_calls,
                spend=charge(by_slug[r.model].pricing or {}, r.billable_calls, r.compute_ms),
                currency=settings.currency,
            )
            for r in summarise(hours, slugs, tiers, granularity, start)
        ]

    async def top_models(
        self, session: AsyncSession, start: datetime, end: datetime, limit: int
    ) -> list[TopModel]:
        """Public, published models with the most calls in ``[start, end)``."""
        calls = func.sum(UsageHourly.calls)
        stmt = (
            select(MarketModel, calls.label("calls"),
                   func.count(func.distinct(UsageHourly.consumer_id)).label("consumers"))
            .join(UsageHourly, UsageHourly.model_id == MarketModel.id)
            .where(UsageHourly.hour >= start, UsageHourly.hour < end, UsageHourly.calls > 0,
                   MarketModel.visibility == "public", MarketModel.status == "published",
                   MarketModel.deleted_at.is_(None))
            .group_by(MarketModel.id)
            .order_by(calls.desc(), MarketModel.id)
            .limit(limit)
        )  # fmt: skip
        rows = (await session.execute(stmt)).all()
        return [TopModel(model=m.slug, calls=int(c), consumers=int(n)) for m, c, n in rows]


analytics = AnalyticsService()
