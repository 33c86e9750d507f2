"""Queries of a farm's webhooks and of the delivery log (no commits: services own those)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from aquaculture.webhooks.models import FarmWebhook, WebhookAttempt, WebhookDelivery
from forgekit.db.repository import Repository
from forgekit.webhooks.repository import DeliveryLogRepository


class WebhookRepository(Repository[FarmWebhook]):
    """A farm's webhooks."""

    model = FarmWebhook

    async def list_for_farm(self, farm_id: uuid.UUID) -> Sequence[FarmWebhook]:
        """All webhooks of a farm, oldest first."""
        stmt = (
            self.select_all()
            .where(FarmWebhook.farm_id == farm_id)
            .order_by(FarmWebhook.created_at, FarmWebhook.id)
        )
        return await self.all(stmt)

    async def get_in_farm(self, farm_id: uuid.UUID, webhook_id: uuid.UUID) -> FarmWebhook | None:
        """A webhook by id, only if it belongs to ``farm_id``."""
        stmt = self.select_all().where(
            FarmWebhook.id == webhook_id, FarmWebhook.farm_id == farm_id
        )
        return await self.one_or_none(stmt)

    async def subscribed(self, farm_id: uuid.UUID, event_type: str) -> list[FarmWebhook]:
        """The farm's active webhooks that asked for ``event_type``."""
        stmt = self.select_all().where(
            FarmWebhook.farm_id == farm_id, FarmWebhook.active.is_(True)
        )
        return [w for w in await self.all(stmt) if event_type in w.events]


class DeliveryRepository(DeliveryLogRepository[WebhookDelivery, WebhookAttempt]):
    """Aquaculture's delivery log (the kit's queries over Aquaculture's tables)."""

    delivery_model = WebhookDelivery
    attempt_model = WebhookAttempt
    endpoint_model = FarmWebhook
