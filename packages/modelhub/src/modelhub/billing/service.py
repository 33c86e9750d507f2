"""Handling the payment provider's webhooks: verify, deduplicate, apply in any order."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import BadRequest
from forgekit.payments import InvalidSignature, ProviderEvent, verify_event
from modelhub.billing.models import STATUS_RANK
from modelhub.billing.repository import BillingRepository

#: Seconds a webhook's signed timestamp may be away from now.
WEBHOOK_TOLERANCE_S = 300


def _invoice_values(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The mirrored columns of an invoice object; None when it is not a usable invoice."""
    if obj.get("object") != "invoice" or obj.get("status") not in STATUS_RANK:
        return None
    try:
        return {
            "provider_id": str(obj["id"]),
            "customer": str(obj["customer"]),
            "status": obj["status"],
            "currency": str(obj["currency"])[:3],
            "amount_due": int(obj.get("amount_due", 0)),
            "amount_paid": int(obj.get("amount_paid", 0)),
        }
    except (KeyError, TypeError, ValueError):
        return None


async def handle_webhook(
    session: AsyncSession, payload: bytes, signature: str, secret: str
) -> dict[str, Any]:
    """Verify and apply one delivery; the answer says whether it was a redelivery.

    The event id row and the state change share one transaction, so a failed apply leaves
    no record and the provider's retry applies it again.
    """
    # No secret configured: verify_event refuses (400), as nothing can be verified.
    try:
        event = verify_event(payload, signature, secret, WEBHOOK_TOLERANCE_S)
    except InvalidSignature as exc:
        raise BadRequest(str(exc)) from exc
    repo = BillingRepository(session)
    now = utcnow()
    if not await repo.record_event(event.id, event.type[:64], now):
        await session.rollback()
        return {"id": event.id, "duplicate": True}
    await _apply(repo, event, now)
    await session.commit()
    return {"id": event.id, "duplicate": False}


async def _apply(repo: BillingRepository, event: ProviderEvent, now: Any) -> None:
    """Apply what Modelhub mirrors (invoices); other event types are only recorded."""
    if event.type.startswith("invoice."):
        values = _invoice_values(event.data_object)
        if values is not None:
            await repo.mirror_invoice(values, now)
