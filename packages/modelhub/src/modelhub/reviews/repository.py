"""Queries of reviews and ratings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.identity.models import User
from modelhub.registry.models import MarketModel
from modelhub.reviews.models import ModelRating, Review
from modelhub.reviews.schemas import ReviewSort

#: Every star count, for histograms.
STARS = (1, 2, 3, 4, 5)


class ReviewRepository:
    """A model's reviews with their authors' usernames, and its rating row."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_model(self, model_id: uuid.UUID) -> None:
        """Serialise review changes of one model (``SELECT … FOR UPDATE`` on PostgreSQL;
        SQLite serialises writers anyway), so the recomputed rating never misses a
        concurrent change."""
        stmt = select(MarketModel.id).where(MarketModel.id == model_id).with_for_update()
        await self.session.execute(stmt)

    async def get(self, model_id: uuid.UUID, review_id: uuid.UUID) -> tuple[Review, str] | None:
        """The review ``review_id`` of the model, with its author's username."""
        stmt = _with_author().where(Review.model_id == model_id, Review.id == review_id)
        row = (await self.session.execute(stmt)).first()
        return (row[0], row[1]) if row is not None else None

    async def by_author(self, model_id: uuid.UUID, author_id: uuid.UUID) -> Review | None:
        """The author's review of the model, if any."""
        stmt = select(Review).where(Review.model_id == model_id, Review.author_id == author_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    def listing(
        self, model_id: uuid.UUID, viewer_id: uuid.UUID, *, all_: bool
    ) -> Select[Review, str]:
        """A model's reviews the viewer may see: visible ones and their own (all for admins)."""
        stmt = _with_author().where(Review.model_id == model_id)
        if all_:
            return stmt
        return stmt.where(or_(Review.hidden_at.is_(None), Review.author_id == viewer_id))

    async def count(self, stmt: Select[Review, str]) -> int:
        """How many rows ``stmt`` selects."""
        counted = stmt.with_only_columns(func.count(Review.id)).order_by(None)
        return int(await self.session.scalar(counted) or 0)

    async def page(
        self,
        stmt: Select[Review, str],
        sort: ReviewSort,
        after: tuple[Any, uuid.UUID] | None,
        limit: int,
    ) -> Sequence[tuple[Review, str]]:
        """Up to ``limit`` rows of ``stmt`` in ``sort`` order after the keyset ``after``."""
        key = Review.created_at if sort is ReviewSort.RECENT else Review.rating
        if after is not None:
            value, last_id = after
            stmt = stmt.where(or_(key < value, and_(key == value, Review.id < last_id)))
        ordered = stmt.order_by(key.desc(), Review.id.desc()).limit(limit)
        return [(r, name) for r, name in (await self.session.execute(ordered)).all()]

    async def star_counts(self, model_id: uuid.UUID) -> dict[int, int]:
        """Visible reviews of the model per star count (counted by the database)."""
        stmt = (
            select(Review.rating, func.count(Review.id))
            .where(Review.model_id == model_id, Review.hidden_at.is_(None))
            .group_by(Review.rating)
        )
        counts = {int(r): int(n) for r, n in (await self.session.execute(stmt)).all()}
        return {star: counts.get(star, 0) for star in STARS}

    async def rating(self, model_id: uuid.UUID) -> ModelRating | None:
        """The model's rating row (None before its first review)."""
        return await self.session.get(ModelRating, model_id, populate_existing=True)

    async def save_rating(self, model_id: uuid.UUID, counts: dict[int, int], at: datetime) -> None:
        """Write the model's rating from its star counts."""
        row = await self.rating(model_id)
        if row is None:
            row = ModelRating(model_id=model_id)
            self.session.add(row)
        total = sum(counts.values())
        row.count = total
        row.average = sum(s * n for s, n in counts.items()) / total if total else None
        row.stars_1, row.stars_2, row.stars_3, row.stars_4, row.stars_5 = (
            counts[s] for s in STARS
        )
        row.updated_at = at
        await self.session.flush()


def _with_author() -> Select[Review, str]:
    return select(Review, User.username).join(User, User.id == Review.author_id)
