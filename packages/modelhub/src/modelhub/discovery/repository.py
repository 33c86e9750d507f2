"""Discovery queries over the registry and the usage record (counted by the database)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from modelhub.registry.models import MarketModel, ModelStatus, Visibility
from modelhub.usage.models import ModelUsage
from modelhub.usage.repository import recent_users


def listed() -> Select[MarketModel]:
    """Live, published, public models: the only ones discovery ever lists."""
    return select(MarketModel).where(
        MarketModel.deleted_at.is_(None),
        MarketModel.status == ModelStatus.PUBLISHED.value,
        MarketModel.visibility == Visibility.PUBLIC.value,
    )


class DiscoveryRepository:
    """Popular, recent and co-used models."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def popular(self, since: datetime, limit: int) -> Sequence[tuple[MarketModel, int]]:
        """Listed models by distinct users since ``since``, then downloads, then newest."""
        recent = recent_users(since)
        users = func.coalesce(recent.c.users, 0)
        stmt = (
            listed()
            .add_columns(users)
            .outerjoin(recent, recent.c.model_id == MarketModel.id)
            .order_by(users.desc(), MarketModel.downloads.desc(),
                      MarketModel.published_at.desc(), MarketModel.id.desc())
            .limit(limit)
        )  # fmt: skip
        return [(m, int(n)) for m, n in (await self.session.execute(stmt)).all()]

    async def recent(
        self, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> Sequence[MarketModel]:
        """Listed models, most recently published first, after the keyset ``after``."""
        stmt = listed().where(MarketModel.published_at.is_not(None))
        if after is not None:
            at, last_id = after
            same = and_(MarketModel.published_at == at, MarketModel.id < last_id)
            stmt = stmt.where(or_(MarketModel.published_at < at, same))
        stmt = stmt.order_by(MarketModel.published_at.desc(), MarketModel.id.desc()).limit(limit)
        return (await self.session.execute(stmt)).scalars().all()

    async def recent_total(self) -> int:
        """How many models the recent listing walks."""
        stmt = listed().where(MarketModel.published_at.is_not(None))
        return int(await self.session.scalar(stmt.with_only_columns(func.count())) or 0)

    async def also_used(
        self, model_id: uuid.UUID, limit: int
    ) -> Sequence[tuple[MarketModel, int]]:
        """Listed models (not ``model_id``) used by users of ``model_id``, by how many.

        A self-join of the usage record on the consumer: each consumer who used both models
        counts once (the record holds one row per consumer and model).
        """
        mine, theirs = aliased(ModelUsage), aliased(ModelUsage)
        users = func.count(theirs.consumer_id).label("users")
        stmt = (
            listed()
            .add_columns(users)
            .join(theirs, theirs.model_id == MarketModel.id)
            .join(mine, and_(mine.consumer_id == theirs.consumer_id, mine.model_id == model_id))
            .where(MarketModel.id != model_id)
            .group_by(MarketModel.id)
            .order_by(users.desc(), MarketModel.namespace, MarketModel.name)
            .limit(limit)
        )
        return [(m, int(n)) for m, n in (await self.session.execute(stmt)).all()]
