"""The usage record's rules: what counts as having used a model.

A model's own publisher using it is not a consumer's use (it would inflate popularity and
recommendations, and a publisher may not review their own model anyway).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from modelhub.registry.models import MarketModel
from modelhub.usage.models import UsageSource
from modelhub.usage.repository import UsageRepository


class UsageService:
    """Writes and checks (consumer, model) usage facts; callers commit."""

    async def record(
        self,
        session: AsyncSession,
        consumer_id: uuid.UUID,
        model: MarketModel,
        source: UsageSource,
    ) -> bool:
        """Record that ``consumer_id`` used ``model`` (idempotent); False for its publisher."""
        if consumer_id == model.owner_id:
            return False
        await UsageRepository(session).record(consumer_id, model.id, source, utcnow())
        return True

    async def has_used(
        self, session: AsyncSession, consumer_id: uuid.UUID, model_id: uuid.UUID
    ) -> bool:
        """True when the consumer has used (downloaded, called or bought) the model."""
        return await UsageRepository(session).get(consumer_id, model_id) is not None


usage = UsageService()
