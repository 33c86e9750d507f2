"""HTTP endpoints of analytics: ``/api/v1/analytics/{publisher,spend,top-models}``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from forgekit.db.base import utcnow
from forgekit.deps import SessionDep
from forgekit.errors import Unprocessable
from forgekit.identity.deps import CurrentPrincipal, require_scopes
from forgekit.identity.principal import Principal
from modelhub.analytics.schemas import AnalyticsReport, PublisherRow, SpendRow, TopModel
from modelhub.analytics.service import analytics
from modelhub.permissions import Permission
from modelhub.runtime import ModelhubRuntimeDep
from modelhub.usage.repository import hour_of
from modelhub.usage.schemas import Granularity
from modelhub.usage.service import month_start

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

Publisher = Annotated[Principal, Depends(require_scopes(Permission.MODEL_PUBLISH))]
MAX_SPAN = timedelta(days=366)


def window(start: datetime | None = None, end: datetime | None = None) -> tuple[datetime, datetime]:
    """``[start, end)`` on whole hours: by default this month so far."""
    now = utcnow()
    lo = hour_of(start) if start is not None else month_start(now)
    hi = end if end is not None else hour_of(now) + timedelta(hours=1)
    if lo.tzinfo is None or hi.tzinfo is None:
        raise Unprocessable("start and end need a time zone (e.g. 2026-12-01T00:00:00Z).")
    if not lo < hi or hi - lo > MAX_SPAN:
        raise Unprocessable("start must be before end, at most 366 days apart.")
    return lo, hi


Window = Annotated[tuple[datetime, datetime], Depends(window)]


@router.get("/publisher")
async def publisher_dashboard(
    principal: Publisher,
    session: SessionDep,
    runtime: ModelhubRuntimeDep,
    span: Window,
    granularity: Granularity = Granularity.DAY,
) -> AnalyticsReport[PublisherRow]:
    """The caller's models per period: calls, errors, latency p50/p95, revenue (minor
    units; ``publisher_revenue`` is the publisher's share)."""
    rows = await analytics.publisher(session, runtime.app_settings, principal.user_id, *span,
                                     granularity)  # fmt: skip
    return AnalyticsReport[PublisherRow](start=span[0], end=span[1], rows=rows)


@router.get("/spend")
async def consumer_spend(
    principal: CurrentPrincipal,
    session: SessionDep,
    runtime: ModelhubRuntimeDep,
    span: Window,
    granularity: Granularity = Granularity.MONTH,
) -> AnalyticsReport[SpendRow]:
    """What the caller spent per model and period (free tiers applied, minor units)."""
    rows = await analytics.spend(session, runtime.app_settings, principal.user_id, *span,
                                 granularity)  # fmt: skip
    return AnalyticsReport[SpendRow](start=span[0], end=span[1], rows=rows)


@router.get("/top-models")
async def top_models(
    principal: CurrentPrincipal,
    session: SessionDep,
    span: Window,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> AnalyticsReport[TopModel]:
    """Public models with the most calls in the window."""
    rows = await analytics.top_models(session, *span, limit)
    return AnalyticsReport[TopModel](start=span[0], end=span[1], rows=rows)
