"""The usage record's rules: what counts as having used a model.

A model's own publisher using it is not a consumer's use (it would inflate popularity and
recommendations, and a publisher may not review their own model anyway).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.events.outbox import enqueue
from modelhub.events import USAGE_RECORDED, UsageRecorded
from modelhub.registry.models import MarketModel
from modelhub.usage.models import UsageEvent, UsageSource
from modelhub.usage.repository import UsageRepository


def month_start(at: datetime) -> datetime:
    """The start of the UTC month ``at`` falls in (free tiers are monthly)."""
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


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

    async def meter(self, session: AsyncSession, model: MarketModel, event: UsageEvent) -> bool:
        """Count one billable call, once per ``(consumer, request id)``; callers commit.

        In the caller's transaction: the event (unless its request id is counted already),
        its hour's aggregate, the usage record and a ``usage.recorded`` outbox event, so the
        count, the aggregate and what downstream consumers see commit together or not at
        all. True when this call was counted, False for a retry of a counted one.
        """
        repo = UsageRepository(session)
        if not await repo.insert_event(event):
            return False
        now = utcnow()
        await repo.add_to_hour(event, now)
        await self.record(session, event.consumer_id, model, UsageSource.INFERENCE)
        await enqueue(session, USAGE_RECORDED, UsageRecorded(
            event_id=event.id, consumer_id=event.consumer_id, model_id=event.model_id,
            version=event.version, request_id=event.request_id, items=event.items,
            compute_ms=event.compute_ms, occurred_at=event.occurred_at.isoformat()))  # fmt: skip
        return True

    async def calls_this_month(
        self, session: AsyncSession, consumer_id: uuid.UUID, model_id: uuid.UUID
    ) -> int:
        """The consumer's counted calls of the model in the current UTC month."""
        return await UsageRepository(session).calls_since(
            consumer_id, model_id, month_start(utcnow())
        )


usage = UsageService()
