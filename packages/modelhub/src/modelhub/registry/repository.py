"""Queries of the model registry."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, and_, or_, select

from forgekit.db.repository import Repository
from modelhub.registry.models import MarketModel, ModelStatus, Visibility


class ModelRepository(Repository[MarketModel]):
    """Models, live (not deleted) unless asked."""

    model = MarketModel

    async def by_slug(self, namespace: str, name: str) -> MarketModel | None:
        """The live model ``namespace/name``."""
        stmt = self.select_all().where(
            MarketModel.namespace == namespace, MarketModel.name == name
        )
        return await self.one_or_none(stmt)

    async def slug_taken(self, namespace: str, name: str) -> bool:
        """True when any model, deleted ones included, holds the slug."""
        stmt = select(MarketModel.id).where(
            MarketModel.namespace == namespace, MarketModel.name == name
        )
        return (await self.session.scalar(stmt)) is not None

    def listing(self, viewer_id: uuid.UUID | None, *, mine: bool) -> Select[MarketModel]:
        """Models a viewer may list: their own with ``mine``, else the published public ones."""
        stmt = self.select_all()
        if mine:
            return stmt.where(MarketModel.owner_id == viewer_id)
        return stmt.where(
            MarketModel.status == ModelStatus.PUBLISHED.value,
            MarketModel.visibility == Visibility.PUBLIC.value,
        )

    @staticmethod
    def after(
        stmt: Select[MarketModel], created_at: datetime, last_id: uuid.UUID
    ) -> Select[MarketModel]:
        """Keyset condition: rows after ``(created_at, id)`` in newest-first order."""
        return stmt.where(
            or_(
                MarketModel.created_at < created_at,
                and_(MarketModel.created_at == created_at, MarketModel.id < last_id),
            )
        )
