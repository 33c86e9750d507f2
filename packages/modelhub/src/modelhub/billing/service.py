"""Handling the payment provider's webhooks: verify, deduplicate, apply in any order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import BadRequest
from forgekit.payments import InvalidSignature, ProviderEvent, verify_event
from modelhub.billing import ledger
from modelhub.billing.collection import record_failure
from modelhub.billing.models import STATUS_RANK
from modelhub.billing.repository import BillingRepository
from modelhub.billing.subscriptions import apply_subscription_event
from modelhub.settings import ModelhubSettings

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
            "payment_intent": obj.get("payment_intent") or None,
        }
    except (KeyError, TypeError, ValueError):
        return None


async def handle_webhook(
    session: AsyncSession, settings: ModelhubSettings, payload: bytes, signature: str
) -> dict[str, Any]:
    """Verify and apply one delivery; the answer says whether it was a redelivery.

    The event id row and the state change share one transaction, so a failed apply leaves
    no record and the provider's retry applies it again.
    """
    # No secret configured: verify_event refuses (400), as nothing can be verified.
    secret = settings.payments_webhook_secret
    try:
        event = verify_event(payload, signature, secret, WEBHOOK_TOLERANCE_S)
    except InvalidSignature as exc:
        raise BadRequest(str(exc)) from exc
    repo = BillingRepository(session)
    now = utcnow()
    if not await repo.record_event(event.id, event.type[:64], now):
        await session.rollback()
        return {"id": event.id, "duplicate": True}
    await _apply(session, settings, event, now)
    await session.commit()
    return {"id": event.id, "duplicate": False}


async def _apply(
    session: AsyncSession, settings: ModelhubSettings, event: ProviderEvent, now: datetime
) -> None:
    """Apply what Modelhub mirrors (invoices, subscriptions); other types are only recorded."""
    if event.type.startswith("customer.subscription."):
        await apply_subscription_event(session, settings, event.created, event.data_object)
        return
    if not event.type.startswith("invoice."):
        return
    values = _invoice_values(event.data_object)
    if values is None:
        return
    row = await BillingRepository(session).mirror_invoice(values, now)
    if row.status == "paid":
        row.next_retry_at = None
        await ledger.credit_paid_invoice(session, settings.publisher_share_bps, row.provider_id)
    elif event.type == "invoice.payment_failed":
        attempt = int(event.data_object.get("attempt_count") or row.attempt_count + 1)
        await record_failure(session, settings, row, attempt, now)
