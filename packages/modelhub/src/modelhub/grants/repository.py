"""Queries of access grants."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from modelhub.grants.models import ModelGrant


class GrantRepository:
    """Reads grants."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active(self, consumer_id: uuid.UUID, model_id: uuid.UUID) -> ModelGrant | None:
        """The consumer's unrevoked grant on the model, if any."""
        stmt = select(ModelGrant).where(
            ModelGrant.consumer_id == consumer_id,
            ModelGrant.model_id == model_id,
            ModelGrant.revoked_at.is_(None),
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()
