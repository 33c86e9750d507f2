"""HTTP endpoint of usage metering: ``GET /api/v1/usage``."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.deps import SessionDep
from forgekit.identity.deps import CurrentPrincipal
from forgekit.identity.principal import Principal
from modelhub.periods import Window
from modelhub.registry.models import MarketModel
from modelhub.registry.service import models
from modelhub.usage.report import free_tiers, summarise
from modelhub.usage.repository import UsageRepository
from modelhub.usage.schemas import Granularity, UsageReport
from modelhub.usage.service import month_start

router = APIRouter(prefix="/api/v1/usage", tags=["usage"])

View = Literal["consumer", "publisher"]


async def _models(
    session: AsyncSession, principal: Principal, slug: str | None, view: View
) -> dict[uuid.UUID, MarketModel]:
    """The models a report covers: one (``slug``), the publisher's, or none yet (consumer)."""
    stmt = select(MarketModel).where(MarketModel.deleted_at.is_(None))
    if slug is not None:
        owner, name = slug.split("/", 1)
        stmt = stmt.where(MarketModel.id == (await models.get(session, principal, owner, name)).id)
    if view == "publisher":
        stmt = stmt.where(MarketModel.owner_id == principal.user_id)
    return {m.id: m for m in (await session.execute(stmt)).scalars()}


@router.get("")
async def get_usage(
    principal: CurrentPrincipal,
    session: SessionDep,
    span: Window,
    model: Annotated[str | None, Query(pattern=r"^[^/]+/[^/]+$", description="owner/name")] = None,
    granularity: Granularity = Granularity.DAY,
    view: Annotated[View, Query(alias="as")] = "consumer",
) -> UsageReport:
    """Calls, inputs and compute per model and period in ``[start, end)`` (default: this
    month). ``as=consumer`` (default): the caller's own calls, with the free tier applied;
    ``as=publisher``: all consumers' calls of the caller's models."""
    start, end = span
    pool = await _models(session, principal, model, view)
    consumer = principal.user_id if view == "consumer" else None
    ids = list(pool) if (model is not None or view == "publisher") else None
    rows = await UsageRepository(session).hours(consumer, ids, month_start(start), end)
    missing = {r.model_id for r in rows} - set(pool)
    if missing:  # the consumer's calls of any model
        found = await session.execute(select(MarketModel).where(MarketModel.id.in_(missing)))
        pool.update({m.id: m for m in found.scalars()})
    slugs = {m.id: m.slug for m in pool.values()}
    tiers = free_tiers(pool) if view == "consumer" else None
    return UsageReport(start=start, end=end, granularity=granularity,
                       rows=summarise(rows, slugs, tiers, granularity, start))  # fmt: skip
