"""Ordering a model: the first, synchronous part of the purchase saga.

The order is a row plus a ``purchase.step`` (charge) outbox event in one transaction; the
worker runs the rest (:mod:`modelhub.purchases.saga`). A retried order (same
``Idempotency-Key``) returns the purchase already made.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, NotFound, ServiceUnavailable
from forgekit.events.outbox import enqueue
from forgekit.identity.principal import Principal
from modelhub.events import PURCHASE_STEP, PurchaseStep
from modelhub.purchases.models import Purchase, Step
from modelhub.purchases.schemas import PurchaseCreate, PurchaseRead
from modelhub.registry.models import MarketModel
from modelhub.settings import ModelhubSettings


def to_read(p: Purchase, slug: str) -> PurchaseRead:
    """The API view of a purchase."""
    return PurchaseRead(
        id=p.id, model=slug, amount=p.amount, currency=p.currency, step=p.step,
        payment_intent_id=p.payment_intent_id, refund_id=p.refund_id, error=p.error,
        created_at=p.created_at, updated_at=p.updated_at,
    )  # fmt: skip


class PurchaseService:
    """Order and read purchases."""

    async def order(
        self,
        session: AsyncSession,
        settings: ModelhubSettings,
        principal: Principal,
        model: MarketModel,
        data: PurchaseCreate,
        request_id: str,
    ) -> tuple[PurchaseRead, bool]:
        """Start the saga; False with the existing purchase for a retried request id."""
        if not settings.payments_base_url:
            raise ServiceUnavailable("Payments are not configured on this server.")
        price = (model.pricing or {}).get("purchase_price")
        if not price:
            raise Conflict(f"{model.slug} is not for sale.")
        if model.owner_id == principal.user_id:
            raise Conflict("Publishers do not buy their own models.")
        consumer_id, slug, now = principal.user_id, model.slug, utcnow()
        purchase = Purchase(
            id=uuid.uuid4(), consumer_id=consumer_id, model_id=model.id, request_id=request_id,
            amount=int(price), currency=settings.currency, payment_method=data.payment_method,
            step=Step.CHARGE.value, created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(purchase)
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            stmt = select(Purchase).where(
                Purchase.consumer_id == consumer_id, Purchase.request_id == request_id
            )
            existing = (await session.execute(stmt)).scalar_one()
            return to_read(existing, slug), False
        await enqueue(session, PURCHASE_STEP,
                      PurchaseStep(purchase_id=purchase.id, step=Step.CHARGE.value))  # fmt: skip
        await session.commit()
        return to_read(purchase, slug), True

    async def get(
        self, session: AsyncSession, principal: Principal, purchase_id: uuid.UUID
    ) -> PurchaseRead:
        """The caller's purchase (an admin's: any)."""
        p = await session.get(Purchase, purchase_id, populate_existing=True)
        if p is None or (p.consumer_id != principal.user_id and not principal.is_admin):
            raise NotFound("Purchase not found.")
        model = await session.get(MarketModel, p.model_id)
        return to_read(p, model.slug if model is not None else str(p.model_id))


purchases = PurchaseService()
