"""HTTP endpoints of the registry: ``/api/v1/models``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from forgekit.deps import SessionDep
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from modelhub.cards.schemas import ModelDetail
from modelhub.cards.service import cards
from modelhub.permissions import Permission
from modelhub.registry.schemas import ModelCreate, ModelPage, ModelRead, ModelUpdate
from modelhub.registry.service import models
from modelhub.runtime import ModelhubRuntimeDep

router = APIRouter(prefix="/api/v1/models", tags=["models"])

Reader = Annotated[Principal, Depends(require_scopes(Permission.MODEL_READ))]
Writer = Annotated[Principal, Depends(require_scopes(Permission.MODEL_WRITE))]
Publisher = Annotated[Principal, Depends(require_scopes(Permission.MODEL_PUBLISH))]
Deleter = Annotated[Principal, Depends(require_scopes(Permission.MODEL_DELETE))]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_model(data: ModelCreate, principal: Writer, session: SessionDep) -> ModelRead:
    """Create a draft model under the caller's name (publishers)."""
    return await models.create(session, principal, data)


@router.get("")
async def list_models(
    principal: Reader,
    session: SessionDep,
    runtime: ModelhubRuntimeDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    mine: bool = False,
    task: Annotated[str | None, Query(max_length=64)] = None,
    framework: Annotated[str | None, Query(max_length=32)] = None,
) -> ModelPage:
    """Published public models, newest first; ``mine=true`` lists the caller's own."""
    limit = min(limit, runtime.app_settings.max_page_size)
    return await models.list(
        session, principal, limit=limit, cursor=cursor, mine=mine, task=task, framework=framework
    )


@router.get("/{owner}/{name}")
async def get_model(owner: str, name: str, principal: Reader, session: SessionDep) -> ModelDetail:
    """One model with its card as safe HTML and its rating (404 when the caller may not see
    it)."""
    return await cards.detail(session, await models.get(session, principal, owner, name))


@router.patch("/{owner}/{name}")
async def update_model(
    owner: str, name: str, data: ModelUpdate, principal: Writer, session: SessionDep
) -> ModelRead:
    """Change a model's details (its publisher or an admin)."""
    model = await models.owned(session, principal, owner, name)
    return await models.update(session, principal, model, data)


@router.post("/{owner}/{name}/publish")
async def publish_model(
    owner: str, name: str, principal: Publisher, session: SessionDep
) -> ModelRead:
    """Put a draft on the marketplace (the publisher's e-mail must be verified)."""
    model = await models.owned(session, principal, owner, name)
    return await models.publish(session, principal, model)


@router.post("/{owner}/{name}/deprecate")
async def deprecate_model(
    owner: str, name: str, principal: Publisher, session: SessionDep
) -> ModelRead:
    """Mark a published model deprecated."""
    model = await models.owned(session, principal, owner, name)
    return await models.deprecate(session, principal, model)


@router.delete("/{owner}/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_model(owner: str, name: str, principal: Deleter, session: SessionDep) -> None:
    """Soft-delete a model."""
    model = await models.owned(session, principal, owner, name)
    await models.delete(session, principal, model)
