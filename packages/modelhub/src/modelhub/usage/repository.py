"""Queries of the usage record."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Subquery, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from modelhub.usage.models import ModelUsage, UsageSource

#: The window popularity counts users in ("calls in the last 30 days" of the seed).
POPULAR_WINDOW = timedelta(days=30)


def recent_users(since: datetime) -> Subquery:
    """``(model_id, users)``: distinct consumers per model who used it since ``since``
    (one usage row per consumer and model, so a count of rows is a count of users)."""
    return (
        select(ModelUsage.model_id, func.count(ModelUsage.id).label("users"))
        .where(ModelUsage.last_used_at >= since)
        .group_by(ModelUsage.model_id)
        .subquery("recent_users")
    )


class UsageRepository:
    """Records and reads (consumer, model) usage facts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self, consumer_id: uuid.UUID, model_id: uuid.UUID, source: UsageSource, at: datetime
    ) -> None:
        """Insert the fact, or refresh ``last_used_at`` when it exists.

        One statement (``INSERT … ON CONFLICT DO UPDATE`` on both databases), so concurrent
        uses by the same consumer never race into a unique-constraint error.
        """
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert(ModelUsage).values(
            id=uuid.uuid4(), consumer_id=consumer_id, model_id=model_id, source=source.value,
            last_source=source.value, uses=1, first_used_at=at, last_used_at=at,
        )  # fmt: skip
        stmt = stmt.on_conflict_do_update(
            index_elements=[ModelUsage.consumer_id, ModelUsage.model_id],
            set_={
                "last_used_at": stmt.excluded.last_used_at,
                "last_source": stmt.excluded.last_source,
                "uses": ModelUsage.uses + 1,
            },
        )
        await self.session.execute(stmt)

    async def get(self, consumer_id: uuid.UUID, model_id: uuid.UUID) -> ModelUsage | None:
        """The fact for ``consumer_id`` and ``model_id``, if the consumer used the model."""
        stmt = select(ModelUsage).where(
            ModelUsage.consumer_id == consumer_id, ModelUsage.model_id == model_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()
