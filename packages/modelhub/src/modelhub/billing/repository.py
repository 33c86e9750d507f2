"""Billing persistence: idempotent inserts by unique constraint, forward-only invoice states."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from modelhub.billing.models import STATUS_RANK, BillingInvoice, PaymentEvent


class BillingRepository:
    """Queries over the billing tables within one session (the caller commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, table: type[object]) -> Any:
        # PostgreSQL's or SQLite's INSERT, both with ON CONFLICT.
        dialect = self.session.get_bind().dialect.name
        return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)

    async def record_event(self, event_id: str, type: str, now: datetime) -> bool:
        """Record a provider event; False when it was recorded already (a redelivery).

        ``ON CONFLICT DO NOTHING`` on the unique event id: of concurrent deliveries exactly
        one inserts, whatever the number of API processes.
        """
        stmt = self._insert(PaymentEvent).values(
            id=uuid.uuid4(), event_id=event_id, type=type, received_at=now
        )
        stmt = stmt.on_conflict_do_nothing(index_elements=[PaymentEvent.event_id]).returning(
            PaymentEvent.id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def mirror_invoice(self, values: dict[str, Any], now: datetime) -> BillingInvoice:
        """Upsert the invoice by provider id, moving its status forward only."""
        stmt = self._insert(BillingInvoice).values(id=uuid.uuid4(), updated_at=now, **values)
        await self.session.execute(
            stmt.on_conflict_do_nothing(index_elements=[BillingInvoice.provider_id])
        )
        # Locked (PostgreSQL) so two events of one invoice cannot interleave their compare.
        row = (
            await self.session.execute(
                select(BillingInvoice)
                .where(BillingInvoice.provider_id == values["provider_id"])
                .with_for_update()
            )
        ).scalar_one()
        new, old = values["status"], row.status
        # A terminal status (paid, void, uncollectible) is never replaced by another one.
        if STATUS_RANK[new] > STATUS_RANK[old] or new == old:
            row.status = new
            row.amount_due = values["amount_due"]
            row.amount_paid = max(row.amount_paid, values["amount_paid"])
            row.updated_at = now
        return row

    async def invoice(self, provider_id: str) -> BillingInvoice | None:
        """The mirrored invoice with that provider id."""
        stmt = select(BillingInvoice).where(BillingInvoice.provider_id == provider_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()
