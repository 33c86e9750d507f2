"""Rules of reviews: who may review (only after using the model), edit, answer and moderate.

A review the caller may not see (hidden, not theirs) does not exist for them (404); a visible
review they may not change answers 403. Every change recomputes the model's rating from the
visible reviews in the same transaction, under a lock on the model row, and emits its event
through the outbox.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, Forbidden, NotFound
from forgekit.events.outbox import enqueue
from forgekit.identity.principal import Principal
from forgekit.pagination import InvalidCursor, keyset_cursor, read_keyset_cursor
from modelhub.events import (
    REVIEW_CREATED,
    REVIEW_MODERATED,
    REVIEW_UPDATED,
    ReviewEvent,
    ReviewModerated,
    ReviewUpdated,
)
from modelhub.registry.models import MarketModel
from modelhub.registry.service import event_fields
from modelhub.reviews.models import ModelRating, Review
from modelhub.reviews.repository import STARS, ReviewRepository
from modelhub.reviews.schemas import (
    RatingSummary,
    ReplyIn,
    ReplyRead,
    ReviewCreate,
    ReviewPage,
    ReviewRead,
    ReviewSort,
    ReviewUpdate,
)
from modelhub.usage.service import usage

REVIEW_NOT_FOUND = "Review not found."
NOT_USED = (
    "Only consumers who have used the model (downloaded a version, called it or bought it) "
    "may review it."
)


def to_read(review: Review, author: str) -> ReviewRead:
    """The API view of a review."""
    reply = None
    if review.reply is not None and review.replied_at is not None:
        reply = ReplyRead(body=review.reply, created_at=review.replied_at,
                          updated_at=review.reply_updated_at or review.replied_at)  # fmt: skip
    return ReviewRead(
        id=review.id, model_id=review.model_id, author_id=review.author_id, author=author,
        rating=review.rating, title=review.title, body=review.body, reply=reply,
        hidden=review.hidden_at is not None, hidden_reason=review.hidden_reason,
        created_at=review.created_at, updated_at=review.updated_at,
    )  # fmt: skip


def summary_of(row: ModelRating | None) -> RatingSummary:
    """The API view of a rating row (an empty summary before the first review)."""
    if row is None:
        return RatingSummary(average=None, count=0, histogram={str(s): 0 for s in STARS})
    counts = (row.stars_1, row.stars_2, row.stars_3, row.stars_4, row.stars_5)
    average = round(row.average, 2) if row.average is not None else None
    histogram = {str(s): n for s, n in zip(STARS, counts, strict=True)}
    return RatingSummary(average=average, count=row.count, histogram=histogram)


def _event(model: MarketModel, review: Review) -> dict[str, Any]:
    return {**event_fields(model), "review_id": review.id, "author_id": review.author_id,
            "rating": review.rating, "hidden": review.hidden_at is not None}  # fmt: skip


def _actor(principal: Principal) -> dict[str, str]:
    return {"actor_id": str(principal.user_id)}


def _keyset(cursor: str, sort: ReviewSort) -> tuple[Any, uuid.UUID]:
    if sort is ReviewSort.RECENT:
        return read_keyset_cursor(cursor, sort.value, timestamp=True)
    value, last_id = read_keyset_cursor(cursor, sort.value, timestamp=False)
    try:
        return int(value), last_id
    except ValueError:
        raise InvalidCursor("The cursor is not valid.") from None


class ReviewService:
    """Reviews of one model; each change commits with its event and the new rating."""

    async def create(
        self, session: AsyncSession, principal: Principal, model: MarketModel, data: ReviewCreate
    ) -> ReviewRead:
        """The caller's review: 403 for the model's publisher or before any use, 409 when the
        caller has already reviewed the model."""
        if model.owner_id == principal.user_id:
            raise Forbidden("A publisher cannot review their own model.")
        if not await usage.has_used(session, principal.user_id, model.id):
            raise Forbidden(NOT_USED)
        repo = ReviewRepository(session)
        await repo.lock_model(model.id)
        if await repo.by_author(model.id, principal.user_id) is not None:
            raise Conflict("You have already reviewed this model; edit your review instead.")
        review = Review(id=uuid.uuid4(), model_id=model.id, author_id=principal.user_id,
                        rating=data.rating, title=data.title, body=data.body)  # fmt: skip
        session.add(review)
        try:
            await session.flush()
        except IntegrityError:  # a concurrent first review by the same consumer
            await session.rollback()
            raise Conflict("You have already reviewed this model.") from None
        await self._rerate(repo, model.id)
        await enqueue(session, REVIEW_CREATED, ReviewEvent(**_event(model, review)),
                      metadata=_actor(principal))  # fmt: skip
        await session.commit()
        return to_read(review, principal.user.username)

    async def get(
        self, session: AsyncSession, principal: Principal, model: MarketModel, review_id: uuid.UUID
    ) -> tuple[Review, str]:
        """The review and its author's name if the caller may see it, else 404."""
        found = await ReviewRepository(session).get(model.id, review_id)
        if found is None:
            raise NotFound(REVIEW_NOT_FOUND)
        review = found[0]
        if review.hidden_at is not None and not (
            principal.is_admin or review.author_id == principal.user_id
        ):
            raise NotFound(REVIEW_NOT_FOUND)
        return found

    async def update(
        self,
        session: AsyncSession,
        principal: Principal,
        model: MarketModel,
        found: tuple[Review, str],
        data: ReviewUpdate,
    ) -> ReviewRead:
        """Change the fields sent (the review's author only)."""
        review, author = found
        if review.author_id != principal.user_id:
            raise Forbidden("Only the review's author may edit it.")
        repo = ReviewRepository(session)
        await repo.lock_model(model.id)
        changed = []
        for field, value in data.model_dump(exclude_unset=True).items():
            if value is not None and getattr(review, field) != value:
                setattr(review, field, value)
                changed.append(field)
        if changed:
            review.updated_at = utcnow()
            await session.flush()
            if "rating" in changed:
                await self._rerate(repo, model.id)
            payload = ReviewUpdated(**_event(model, review), changed=sorted(changed))
            await enqueue(session, REVIEW_UPDATED, payload, metadata=_actor(principal))
        await session.commit()
        return to_read(review, author)

    async def reply(
        self,
        session: AsyncSession,
        principal: Principal,
        model: MarketModel,
        found: tuple[Review, str],
        data: ReplyIn,
        *,
        edit: bool,
    ) -> ReviewRead:
        """The publisher's one answer (``edit=False``: 409 when answered) or its edit
        (``edit=True``: 404 before the answer exists)."""
        review, author = found
        if model.owner_id != principal.user_id:
            raise Forbidden("Only the model's publisher may answer its reviews.")
        now = utcnow()
        if not edit and review.reply is not None:
            raise Conflict("This review already has an answer; edit it instead.")
        if edit and review.reply is None:
            raise NotFound("This review has no answer yet.")
        if not edit:
            review.replied_at = now
        review.reply, review.reply_updated_at = data.body, now
        payload = ReviewUpdated(**_event(model, review), changed=["reply"])
        await enqueue(session, REVIEW_UPDATED, payload, metadata=_actor(principal))
        await session.commit()
        return to_read(review, author)

    async def moderate(
        self,
        session: AsyncSession,
        principal: Principal,
        model: MarketModel,
        found: tuple[Review, str],
        reason: str | None,
    ) -> ReviewRead:
        """Hide the review with ``reason``, or restore it (``reason`` None); 409 when it is
        already in that state. Either way the model's rating is recomputed."""
        review, author = found
        hide = reason is not None
        if hide == (review.hidden_at is not None):
            raise Conflict("The review is already hidden." if hide else "The review is not hidden.")
        repo = ReviewRepository(session)
        await repo.lock_model(model.id)
        review.hidden_at = utcnow() if hide else None
        review.hidden_reason = reason
        review.hidden_by = principal.user_id if hide else None
        await session.flush()
        await self._rerate(repo, model.id)
        payload = ReviewModerated(**_event(model, review), action="hide" if hide else "restore",
                                  reason=reason)  # fmt: skip
        await enqueue(session, REVIEW_MODERATED, payload, metadata=_actor(principal))
        await session.commit()
        return to_read(review, author)

    async def list(
        self,
        session: AsyncSession,
        principal: Principal,
        model: MarketModel,
        *,
        sort: ReviewSort,
        limit: int,
        cursor: str | None,
    ) -> ReviewPage:
        """One page of the model's reviews the caller may see, with the model's rating."""
        repo = ReviewRepository(session)
        stmt = repo.listing(model.id, principal.user_id, all_=principal.is_admin)
        total = await repo.count(stmt)
        after = _keyset(cursor, sort) if cursor is not None else None
        rows = list(await repo.page(stmt, sort, after, limit + 1))
        page = rows[:limit]
        next_cursor = None
        if len(rows) > limit:
            last = page[-1][0]
            value = last.created_at if sort is ReviewSort.RECENT else str(last.rating)
            next_cursor = keyset_cursor(sort.value, value, last.id)
        return ReviewPage(
            items=[to_read(r, name) for r, name in page], total=total, limit=limit, offset=0,
            next_cursor=next_cursor, summary=summary_of(await repo.rating(model.id)),
        )  # fmt: skip

    async def summary(self, session: AsyncSession, model: MarketModel) -> RatingSummary:
        """The model's rating over its visible reviews."""
        return summary_of(await ReviewRepository(session).rating(model.id))

    @staticmethod
    async def _rerate(repo: ReviewRepository, model_id: uuid.UUID) -> None:
        await repo.save_rating(model_id, await repo.star_counts(model_id), utcnow())


reviews = ReviewService()
