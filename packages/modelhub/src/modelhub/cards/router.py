"""``GET /api/v1/models/{owner}/{name}/card``: the model card."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from forgekit.deps import SessionDep
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from modelhub.cards.schemas import ModelCard
from modelhub.cards.service import cards
from modelhub.permissions import Permission
from modelhub.registry.service import models

router = APIRouter(prefix="/api/v1/models/{owner}/{name}", tags=["models"])

Reader = Annotated[Principal, Depends(require_scopes(Permission.MODEL_READ))]


@router.get("/card")
async def model_card(owner: str, name: str, principal: Reader, session: SessionDep) -> ModelCard:
    """The model's card: description rendered to sanitised HTML, and its rating."""
    model = await models.get(session, principal, owner, name)
    return await cards.card(session, model)
