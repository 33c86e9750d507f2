"""HTTP endpoints of billing: the provider's webhooks and consumers' plan subscriptions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from forgekit.deps import SessionDep
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from forgekit.payments.webhooks import SIGNATURE_HEADER
from modelhub.billing.schemas import SubscriptionChange, SubscriptionRead
from modelhub.billing.service import handle_webhook
from modelhub.billing.subscriptions import subscriptions
from modelhub.permissions import Permission
from modelhub.runtime import ModelhubRuntimeDep

router = APIRouter(tags=["billing"])


@router.post("/api/v1/payments/webhooks")
async def provider_webhook(
    request: Request,
    session: SessionDep,
    runtime: ModelhubRuntimeDep,
    signature: str = Header("", alias=SIGNATURE_HEADER),
) -> dict[str, Any]:
    """Receive a provider event: authenticated by its ``t=,v1=`` signature (no login),
    applied once per event id (a redelivery answers ``duplicate: true``), in any order."""
    payload = await request.body()
    secret = runtime.app_settings.payments_webhook_secret
    return await handle_webhook(session, payload, signature, secret)


#: Subscribing is paying for inference: a key needs ``model:infer`` (a login has it by role).
Subscriber = Annotated[Principal, Depends(require_scopes(Permission.MODEL_INFER))]


@router.get("/api/v1/billing/subscription")
async def get_subscription(
    principal: Subscriber, session: SessionDep, runtime: ModelhubRuntimeDep
) -> SubscriptionRead:
    """The caller's plan subscription (404 when there is none)."""
    return await subscriptions.get(session, runtime.app_settings, principal.user_id)


@router.put("/api/v1/billing/subscription")
async def change_subscription(
    data: SubscriptionChange, principal: Subscriber, session: SessionDep,
    runtime: ModelhubRuntimeDep,
) -> SubscriptionRead:  # fmt: skip
    """Subscribe to a plan, or upgrade/downgrade to another (the provider prorates the
    difference onto the next invoice). Repeating the same request changes nothing."""
    return await subscriptions.change(
        session, runtime.app_settings, principal.user_id, principal.user.email, data
    )


@router.delete("/api/v1/billing/subscription")
async def cancel_subscription(
    principal: Subscriber, session: SessionDep, runtime: ModelhubRuntimeDep
) -> SubscriptionRead:
    """Cancel at the end of the paid period; the plan stays until then."""
    return await subscriptions.cancel(session, runtime.app_settings, principal.user_id)
