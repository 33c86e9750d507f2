"""Queries of the notification tables (no commits, no side effects: services own those)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from forgekit.db.repository import Repository
from pyforge.notify.models import (
    GLOBAL_SCOPE,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    NotificationPreference,
    Webhook,
)


class PreferenceRepository(Repository[NotificationPreference]):
    """A user's preference rows."""

    model = NotificationPreference

    async def get_scope(
        self, user_id: uuid.UUID, project_id: uuid.UUID | None
    ) -> NotificationPreference | None:
        """The user's row for one project, or their global row when ``project_id`` is None."""
        scope = GLOBAL_SCOPE if project_id is None else str(project_id)
        stmt = self.select_all().where(
            NotificationPreference.user_id == user_id, NotificationPreference.scope == scope
        )
        return await self.one_or_none(stmt)

    async def for_users(
        self, user_ids: Sequence[uuid.UUID], project_id: uuid.UUID
    ) -> Sequence[NotificationPreference]:
        """Global and ``project_id`` rows of several users, in one query."""
        if not user_ids:
            return []
        stmt = self.select_all().where(
            NotificationPreference.user_id.in_(user_ids),
            NotificationPreference.scope.in_([GLOBAL_SCOPE, str(project_id)]),
        )
        return await self.all(stmt)


class WebhookRepository(Repository[Webhook]):
    """A project's webhooks."""

    model = Webhook

    async def list_for_project(self, project_id: uuid.UUID) -> Sequence[Webhook]:
        """All webhooks of a project, oldest first."""
        stmt = (
            self.select_all()
            .where(Webhook.project_id == project_id)
            .order_by(Webhook.created_at, Webhook.id)
        )
        return await self.all(stmt)

    async def get_in_project(self, project_id: uuid.UUID, webhook_id: uuid.UUID) -> Webhook | None:
        """A webhook by id, only if it belongs to ``project_id``."""
        stmt = self.select_all().where(Webhook.id == webhook_id, Webhook.project_id == project_id)
        return await self.one_or_none(stmt)

    async def active_for_project(self, project_id: uuid.UUID) -> Sequence[Webhook]:
        """The active webhooks of a project."""
        stmt = self.select_all().where(Webhook.project_id == project_id, Webhook.active.is_(True))
        return await self.all(stmt)

    async def delete_for_project(self, project_id: uuid.UUID) -> None:
        """Remove every webhook of a project (its deliveries cascade)."""
        await self.session.execute(delete(Webhook).where(Webhook.project_id == project_id))


class DeliveryRepository(Repository[Delivery]):
    """The delivery log."""

    model = Delivery

    def insert_if_new_stmt(self, values: dict[str, Any]) -> Insert:
        """An INSERT that does nothing when ``dedupe_key`` already exists (idempotency)."""
        if self.session.get_bind().dialect.name == "postgresql":
            return (
                postgresql.insert(Delivery)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["dedupe_key"])
            )
        return (
            sqlite.insert(Delivery)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )

    async def insert_if_new(self, values: dict[str, Any]) -> bool:
        """Insert a delivery unless its ``dedupe_key`` exists; True when inserted."""
        result = await self.session.execute(
            self.insert_if_new_stmt(values).returning(Delivery.id)
        )
        return result.first() is not None

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int, *, skip_locked: bool
    ) -> list[uuid.UUID]:
        """Pending deliveries due by ``now``, leased until ``lease_until``; their ids.

        The lease hides a claimed row from other delivery loops until the attempt is recorded
        (or, after a crash, until it expires and the row is tried again).
        """
        stmt = (
            select(Delivery)
            .where(
                Delivery.status == DeliveryStatus.PENDING.value,
                or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
            )
            .order_by(Delivery.next_attempt_at, Delivery.created_at)
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
    ) -> Sequence[Delivery]:
        """A webhook's deliveries, newest first."""
        stmt = self.select_all().where(Delivery.webhook_id == webhook_id)
        if before is not None:
            stmt = stmt.where(Delivery.created_at < before)
        stmt = stmt.order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)
        return await self.all(stmt)

    async def attempts_of(
        self, delivery_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[DeliveryAttempt]]:
        """Attempts of several deliveries, in order, keyed by delivery id."""
        out: dict[uuid.UUID, list[DeliveryAttempt]] = {i: [] for i in delivery_ids}
        if not delivery_ids:
            return out
        rows = await self.session.execute(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(delivery_ids))
            .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.number)
        )
        for attempt in rows.scalars():
            out[attempt.delivery_id].append(attempt)
        return out
