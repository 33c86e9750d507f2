"""Queries of the notification tables (no commits, no side effects: services own those)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete

from forgekit.db.repository import Repository
from forgekit.webhooks.repository import DeliveryLogRepository
from pyforge.notify.models import (
    GLOBAL_SCOPE,
    Delivery,
    DeliveryAttempt,
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


class DeliveryRepository(DeliveryLogRepository[Delivery, DeliveryAttempt]):
    """PyForge's delivery log (the kit's queries over PyForge's tables)."""

    delivery_model = Delivery
    attempt_model = DeliveryAttempt
    endpoint_model = Webhook
