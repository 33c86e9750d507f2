"""A farm's webhooks over HTTP (rules live in the service)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from aquaculture.runtime import AquaRuntimeDep
from aquaculture.webhooks.context import webhook_context
from aquaculture.webhooks.schemas import WebhookDeliveryOut, WebhookIn, WebhookOut
from aquaculture.webhooks.service import webhooks
from forgekit.deps import SessionDep
from forgekit.identity.deps import CurrentPrincipal

router = APIRouter(prefix="/api/v1/farms/{farm_id}/webhooks", tags=["webhooks"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_webhook(
    farm_id: uuid.UUID, body: WebhookIn, principal: CurrentPrincipal, session: SessionDep,
    runtime: AquaRuntimeDep,
) -> WebhookOut:  # fmt: skip
    """Register a URL called (signed) when a batch job of the farm completes or fails."""
    ctx = webhook_context(runtime)
    return WebhookOut.model_validate(
        await webhooks.create(session, ctx, principal, farm_id, body)
    )


@router.get("")
async def list_webhooks(
    farm_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> list[WebhookOut]:
    """The farm's webhooks (farm admins)."""
    rows = await webhooks.list_all(session, principal, farm_id)
    return [WebhookOut.model_validate(w) for w in rows]


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(
    farm_id: uuid.UUID, webhook_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> Response:
    """Remove a webhook and its delivery log."""
    await webhooks.delete(session, principal, farm_id, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries")
async def list_deliveries(
    farm_id: uuid.UUID, webhook_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[WebhookDeliveryOut]:  # fmt: skip
    """The webhook's latest deliveries with their state, newest first."""
    rows = await webhooks.deliveries(session, principal, farm_id, webhook_id, limit)
    return [WebhookDeliveryOut.model_validate(d) for d in rows]
