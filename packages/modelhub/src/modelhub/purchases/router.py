"""HTTP endpoints of purchases: order a model, read a purchase."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from forgekit.deps import SessionDep
from forgekit.identity.deps import CurrentPrincipal, require_scopes
from forgekit.identity.principal import Principal
from modelhub.permissions import Permission
from modelhub.purchases.schemas import PurchaseCreate, PurchaseRead
from modelhub.purchases.service import purchases
from modelhub.registry.service import models
from modelhub.runtime import ModelhubRuntimeDep

router = APIRouter(tags=["purchases"])

#: Buying is buying inference: a key needs ``model:infer`` (a login session has it by role).
Buyer = Annotated[Principal, Depends(require_scopes(Permission.MODEL_INFER))]

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"),
]


@router.post(
    "/api/v1/models/{owner}/{name}/purchase",
    status_code=202,
    response_model=PurchaseRead,
    responses={202: {"model": PurchaseRead}},
)
async def buy_model(
    owner: str,
    name: str,
    data: PurchaseCreate,
    principal: Buyer,
    session: SessionDep,
    runtime: ModelhubRuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Buy access to a model for its ``purchase_price``: ``202`` with the purchase, whose
    ``step`` moves charge → grant → notify → ``completed`` (or ``failed`` for a declined
    card, ``compensated`` when it was refunded). Retry with the same ``Idempotency-Key``."""
    model = await models.get(session, principal, owner, name)
    request_id = idempotency_key or uuid.uuid4().hex
    bought, created = await purchases.order(
        session, runtime.app_settings, principal, model, data, request_id
    )
    headers = {"Location": f"/api/v1/purchases/{bought.id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(bought.model_dump(mode="json"), status_code=202, headers=headers)


@router.get("/api/v1/purchases/{purchase_id}")
async def get_purchase(
    purchase_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> PurchaseRead:
    """One of the caller's purchases and where its saga stands."""
    return await purchases.get(session, principal, purchase_id)
