"""HTTP endpoint of usage metering: ``GET /api/v1/usage``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from forgekit.db.base import utcnow
from forgekit.deps import SessionDep
from forgekit.errors import Unprocessable
from forgekit.identity.deps import CurrentPrincipal
from modelhub.registry.models import MarketModel
from modelhub.registry.service import models
from modelhub.usage.report import summarise
from modelhub.usage.repository import UsageRepository, hour_of
from modelhub.usage.schemas import Granularity, UsageReport
from modelhub.usage.service import month_start

router = APIRouter(prefix="/api/v1/usage", tags=["usage"])

#: The longest report (a year of hours).
MAX_SPAN = timedelta(days=366)


@router.get("")
async def get_usage(
    principal: CurrentPrincipal,
    session: SessionDep,
    model: Annotated[str | None, Query(pattern=r"^[^/]+/[^/]+$", description="owner/name")] = None,
    start: datetime | None = None,
    end: datetime | None = None,
    granularity: Granularity = Granularity.DAY,
    view: Annotated[Literal["consumer", "publisher"], Query(alias="as")] = "consumer",
) -> UsageReport:
    """Calls, inputs and compute per model and period in ``[start, end)`` (default: this
    month). ``as=consumer`` (default): the caller's own calls, with the free tier applied;
    ``as=publisher``: all consumers' calls of the caller's models."""
    now = utcnow()
    start = hour_of(start) if start is not None else month_start(now)
    end = end if end is not None else hour_of(now) + timedelta(hours=1)
    if start.tzinfo is None or end.tzinfo is None:
        raise Unprocessable("start and end need a time zone (e.g. 2026-12-01T00:00:00Z).")
    if not start < end or end - start > MAX_SPAN:
        raise Unprocessable("start must be before end, at most 366 days apart.")
    owned = select(MarketModel).where(MarketModel.deleted_at.is_(None))
    if model is not None:
        owner, name = model.split("/", 1)
        found = await models.get(session, principal, owner, name)
        owned = owned.where(MarketModel.id == found.id)
    if view == "publisher":
        owned = owned.where(MarketModel.owner_id == principal.user_id)
    pool = {m.id: m for m in (await session.execute(owned)).scalars()}
    ids = list(pool) if (model is not None or view == "publisher") else None
    consumer = principal.user_id if view == "consumer" else None
    rows = await UsageRepository(session).hours(consumer, ids, month_start(start), end)
    if view == "consumer":
        missing = {r.model_id for r in rows} - set(pool)
        if missing:
            extra = await session.execute(select(MarketModel).where(MarketModel.id.in_(missing)))
            pool.update({m.id: m for m in extra.scalars()})
    slugs = {m.id: m.slug for m in pool.values()}
    tiers = ({m.id: int((m.pricing or {}).get("free_calls_per_month") or 0) for m in pool.values()}
             if view == "consumer" else None)  # fmt: skip
    return UsageReport(start=start, end=end, granularity=granularity,
                       rows=summarise(rows, slugs, tiers, granularity, start))  # fmt: skip
