"""Queries of a product's delivery log (no commits, no side effects: services own those)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.webhooks.models import (
    DeliveryAttemptMixin,
    DeliveryMixin,
    DeliveryStatus,
    WebhookEndpointMixin,
)

D = TypeVar("D", bound=DeliveryMixin)
A = TypeVar("A", bound=DeliveryAttemptMixin)


class DeliveryLogRepository(Generic[D, A]):
    """The delivery log of one product; subclasses name its three model classes."""

    delivery_model: type[D]
    attempt_model: type[A]
    endpoint_model: type[WebhookEndpointMixin]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def insert_if_new_stmt(self, values: dict[str, Any]) -> Insert:
        """An INSERT that does nothing when ``dedupe_key`` already exists (idempotency)."""
        if self.session.get_bind().dialect.name == "postgresql":
            return (
                postgresql.insert(self.delivery_model)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["dedupe_key"])
            )
        return (
            sqlite.insert(self.delivery_model)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )

    async def insert_if_new(self, values: dict[str, Any]) -> bool:
        """Insert a delivery unless its ``dedupe_key`` exists; True when inserted."""
        result = await self.session.execute(
            self.insert_if_new_stmt(values).returning(self.delivery_model.id)
        )
        return result.first() is not None

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int, *, skip_locked: bool
    ) -> list[uuid.UUID]:
        """Pending deliveries due by ``now``, leased until ``lease_until``; their ids.

        The lease hides a claimed row from other delivery loops until the attempt is recorded
        (or, after a crash, until it expires and the row is tried again).
        """
        model = self.delivery_model
        stmt = (
            select(model)
            .where(
                model.status == DeliveryStatus.PENDING.value,
                or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now),
            )
            .order_by(model.next_attempt_at, model.created_at)
            .limit(limit)
        )
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list((await self.session.execute(stmt)).scalars())
        for row in rows:
            row.next_attempt_at = lease_until
        await self.session.flush()
        return [row.id for row in rows]

    async def list_for_webhook(
        self, webhook_id: uuid.UUID, *, limit: int, before: datetime | None = None
    ) -> Sequence[D]:
        """A webhook's deliveries, newest first."""
        model = self.delivery_model
        stmt = select(model).where(model.webhook_id == webhook_id)
        if before is not None:
            stmt = stmt.where(model.created_at < before)
        stmt = stmt.order_by(model.created_at.desc(), model.id.desc()).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def attempts_of(self, delivery_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[A]]:
        """Attempts of several deliveries, in order, keyed by delivery id."""
        out: dict[uuid.UUID, list[A]] = {i: [] for i in delivery_ids}
        if not delivery_ids:
            return out
        model = self.attempt_model
        rows = await self.session.execute(
            select(model)
            .where(model.delivery_id.in_(delivery_ids))
            .order_by(model.delivery_id, model.number)
        )
        for attempt in rows.scalars():
            out[attempt.delivery_id].append(attempt)
        return out

    def add_attempt(self, delivery_id: uuid.UUID, number: int, at: datetime) -> A:
        """A new attempt row of ``delivery_id`` (added to the session; the caller fills it)."""
        attempt = self.attempt_model()
        attempt.id = uuid.uuid4()
        attempt.delivery_id = delivery_id
        attempt.number = number
        attempt.at = at
        self.session.add(attempt)
        return attempt
