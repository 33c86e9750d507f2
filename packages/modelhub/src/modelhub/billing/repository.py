"""Billing persistence: idempotent inserts by unique constraint, forward-only invoice states."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from modelhub.billing.models import STATUS_RANK, BillingCustomer, BillingInvoice, PaymentEvent


def insert_for(session: AsyncSession, table: type[object]) -> Any:
    """PostgreSQL's or SQLite's INSERT of ``table``, both with ON CONFLICT (their types share
    no base that declares it)."""
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


class BillingRepository:
    """Queries over the billing tables within one session (the caller commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, table: type[object]) -> Any:
        return insert_for(self.session, table)

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
        if values.get("payment_intent") and row.status == "paid":
            row.payment_intent = values["payment_intent"]
        return row

    async def invoice(self, provider_id: str, *, lock: bool = False) -> BillingInvoice | None:
        """The mirrored invoice with that provider id (row-locked on PostgreSQL if ``lock``)."""
        stmt = select(BillingInvoice).where(BillingInvoice.provider_id == provider_id)
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def consumer_of(self, customer: str) -> BillingCustomer | None:
        """The consumer behind a provider customer id."""
        stmt = select(BillingCustomer).where(BillingCustomer.provider_id == customer)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def is_suspended(self, consumer_id: uuid.UUID) -> bool:
        """True when the consumer's paid access is suspended (an uncollectible invoice)."""
        stmt = select(BillingCustomer.suspended_at).where(
            BillingCustomer.consumer_id == consumer_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def due_retries(self, now: datetime, limit: int = 100) -> list[str]:
        """Provider ids of past-due invoices whose next retry is due."""
        stmt = (
            select(BillingInvoice.provider_id)
            .where(BillingInvoice.status == "past_due", BillingInvoice.next_retry_at <= now)
            .order_by(BillingInvoice.next_retry_at)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())
