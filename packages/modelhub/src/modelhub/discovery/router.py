"""HTTP endpoints of discovery: popular, recent, and "also used" under ``/api/v1/models``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from forgekit.deps import SessionDep
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from modelhub.discovery.schemas import AlsoUsed, PopularModel, RecentPage
from modelhub.discovery.service import discovery
from modelhub.permissions import Permission
from modelhub.registry.service import models

router = APIRouter(prefix="/api/v1/models", tags=["discovery"])

Reader = Annotated[Principal, Depends(require_scopes(Permission.MODEL_READ))]
Limit = Annotated[int, Query(ge=1, le=50)]


@router.get("/popular")
async def popular_models(
    principal: Reader, session: SessionDep, limit: Limit = 10
) -> list[PopularModel]:
    """Public models most used in the last 30 days (distinct users), then most downloaded."""
    return await discovery.popular(session, limit)


@router.get("/recent")
async def recent_models(
    principal: Reader,
    session: SessionDep,
    limit: Limit = 20,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> RecentPage:
    """Recently published public models, newest first (cursor pages)."""
    return await discovery.recent(session, limit, cursor)


@router.get("/{owner}/{name}/also-used")
async def also_used(
    owner: str, name: str, principal: Reader, session: SessionDep, limit: Limit = 10
) -> list[AlsoUsed]:
    """People who used this model also used: public models by shared users."""
    model = await models.get(session, principal, owner, name)
    return await discovery.also_used(session, model, limit)
