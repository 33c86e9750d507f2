"""HTTP endpoints of analytics: ``/api/v1/analytics/{publisher,spend,top-models}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from forgekit.deps import SessionDep
from forgekit.identity.deps import CurrentPrincipal, require_scopes
from forgekit.identity.principal import Principal
from modelhub.analytics.schemas import AnalyticsReport, PublisherRow, SpendRow, TopModel
from modelhub.analytics.service import analytics
from modelhub.periods import Window
from modelhub.permissions import Permission
from modelhub.runtime import ModelhubRuntimeDep
from modelhub.usage.schemas import Granularity

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

Publisher = Annotated[Principal, Depends(require_scopes(Permission.MODEL_PUBLISH))]


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
