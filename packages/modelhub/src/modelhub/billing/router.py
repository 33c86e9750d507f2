"""HTTP endpoint the payment provider delivers its webhooks to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Request

from forgekit.deps import SessionDep
from forgekit.payments.webhooks import SIGNATURE_HEADER
from modelhub.billing.service import handle_webhook
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
