"""Reviews: who may write one (verified purchase), moderation, helpful votes and ratings."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Float, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, Forbidden, NotFound
from forgekit.events.outbox import enqueue
from shop.catalogue.models import Product, Variant
from shop.events import REVIEW_CREATED, REVIEW_EDITED, ReviewEvent
from shop.orders.models import Order, OrderLine
from shop.reviews.models import Review, ReviewVote
from shop.reviews.schemas import (
    Decision,
    RatingSummary,
    ReviewCreate,
    ReviewEdit,
    ReviewPage,
    ReviewRead,
    ReviewStatus,
)
from shop.reviews.sentiment import clear

REVIEW_NOT_FOUND = "Review not found."


def ratings() -> Any:
    """A subquery: per product, the average and count of its approved reviews (products
    without any have no row; outer-join it)."""
    return (
        select(
            Review.product_id.label("product_id"),
            func.avg(cast(Review.rating, Float)).label("average"),
            func.count(Review.id).label("count"),
        )
        .where(Review.status == ReviewStatus.APPROVED)
        .group_by(Review.product_id)
        .subquery("ratings")
    )


async def _received(session: AsyncSession, customer_id: uuid.UUID, product_id: uuid.UUID) -> bool:
    """Whether the customer has been shipped a unit of one of the product's variants."""
    found = await session.scalar(
        select(OrderLine.id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Variant, Variant.id == OrderLine.variant_id)
        .where(
            Order.customer_id == customer_id,
            Variant.product_id == product_id,
            OrderLine.fulfilled > 0,
        )
        .limit(1)
    )
    return found is not None


async def create(
    session: AsyncSession, product_id: uuid.UUID, customer_id: uuid.UUID, data: ReviewCreate
) -> ReviewRead:
    """A pending review by a customer who received the product (403 otherwise; 409 when
    they already reviewed it: the unique constraint decides, not a prior read)."""
    product = await session.get(Product, product_id)
    if product is None or product.deleted_at is not None:
        raise NotFound("Product not found.")
    if not await _received(session, customer_id, product_id):
        raise Forbidden("Only customers who received this product can review it.")
    review = Review(
        product_id=product_id,
        customer_id=customer_id,
        rating=data.rating,
        title=data.title,
        body=data.body,
        status=ReviewStatus.PENDING,
    )
    session.add(review)
    try:
        await session.flush()
        # The worker scores its sentiment (shop.reviews.tasks); the event commits with it.
        await enqueue(
            session, REVIEW_CREATED, ReviewEvent(review_id=review.id, product_id=product_id)
        )
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("You have already reviewed this product.") from None
    return ReviewRead.model_validate(review)


async def edit(
    session: AsyncSession, review_id: uuid.UUID, author: uuid.UUID, data: ReviewEdit
) -> ReviewRead:
    """The author changes their review: it goes back to moderation, and a new text loses its
    sentiment until the worker scores it again (one transaction with the event)."""
    # Row lock: a sentiment score of the old text being stored now finishes first, and is then
    # cleared here (PostgreSQL; SQLite serialises writers).
    review = await session.scalar(select(Review).where(Review.id == review_id).with_for_update())
    if review is None:
        raise NotFound(REVIEW_NOT_FOUND)
    if review.customer_id != author:
        raise Forbidden("Only its author can edit a review.")
    changes = data.model_dump(exclude_none=True)
    if all(getattr(review, k) == v for k, v in changes.items()):
        await session.rollback()
        return await _read(session, review_id)
    text_changed = any(k in changes and changes[k] != getattr(review, k) for k in ("title", "body"))
    for k, v in changes.items():
        setattr(review, k, v)
    review.status = ReviewStatus.PENDING
    review.moderated_by = review.moderated_at = None
    review.edited_at = utcnow()
    if text_changed:
        clear(review)
        await enqueue(session, REVIEW_EDITED,
                      ReviewEvent(review_id=review.id, product_id=review.product_id))  # fmt: skip
    await session.commit()
    return await _read(session, review_id)


async def _read(session: AsyncSession, review_id: uuid.UUID) -> ReviewRead:
    return (await _with_votes(session, select(Review).where(Review.id == review_id)))[0]


async def queue(session: AsyncSession, limit: int) -> list[ReviewRead]:
    """Pending reviews, oldest first (the moderation queue)."""
    rows = await session.scalars(
        select(Review)
        .where(Review.status == ReviewStatus.PENDING)
        .order_by(Review.created_at, Review.id)
        .limit(limit)
    )
    return [ReviewRead.model_validate(r) for r in rows.all()]


async def moderate(
    session: AsyncSession, review_id: uuid.UUID, decision: Decision, actor: uuid.UUID
) -> ReviewRead:
    """Approve or reject a pending review; one conditional update, so two moderators racing
    get one success and one 409."""
    target = ReviewStatus.APPROVED if decision is Decision.APPROVE else ReviewStatus.REJECTED
    result = await session.execute(
        update(Review)
        .where(Review.id == review_id, Review.status == ReviewStatus.PENDING)
        .values(status=target, moderated_by=actor, moderated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    await session.commit()
    review = await session.scalar(
        select(Review).where(Review.id == review_id).execution_options(populate_existing=True)
    )
    if review is None:
        raise NotFound(REVIEW_NOT_FOUND)
    if int(result.rowcount) != 1:  # type: ignore[attr-defined]
        raise Conflict(f"The review was already {review.status}.")
    return ReviewRead.model_validate(review)


async def vote(session: AsyncSession, review_id: uuid.UUID, user_id: uuid.UUID) -> ReviewRead:
    """Count the user's helpful vote on an approved review (409 on a second vote; 403 on
    one's own review)."""
    review = await session.get(Review, review_id)
    if review is None or review.status != ReviewStatus.APPROVED:
        raise NotFound(REVIEW_NOT_FOUND)
    if review.customer_id == user_id:
        raise Forbidden("You cannot vote for your own review.")
    session.add(ReviewVote(review_id=review_id, user_id=user_id))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("You already found this review helpful.") from None
    return await _read(session, review_id)


async def _with_votes(session: AsyncSession, stmt: Any) -> list[ReviewRead]:
    votes = (
        select(ReviewVote.review_id, func.count().label("helpful"))
        .group_by(ReviewVote.review_id)
        .subquery("votes")
    )
    helpful = func.coalesce(votes.c.helpful, 0)
    rows = await session.execute(
        stmt.outerjoin(votes, votes.c.review_id == Review.id)
        .add_columns(helpful.label("helpful"))
        .order_by(helpful.desc(), Review.created_at.desc(), Review.id)
    )
    out = []
    for review, count in rows.all():
        read = ReviewRead.model_validate(review)
        read.helpful = int(count)
        out.append(read)
    return out


async def rating(session: AsyncSession, product_id: uuid.UUID) -> RatingSummary:
    """The product's average rating over its approved reviews."""
    sub = ratings()
    row = (
        await session.execute(
            select(sub.c.average, sub.c.count).where(sub.c.product_id == product_id)
        )
    ).first()
    if row is None:
        return RatingSummary(product_id=product_id, average=None, count=0)
    return RatingSummary(product_id=product_id, average=round(float(row[0]), 2), count=int(row[1]))


async def product_reviews(
    session: AsyncSession, product_id: uuid.UUID, limit: int, offset: int
) -> ReviewPage:
    """A product's approved reviews, most helpful first, with its rating."""
    product = await session.get(Product, product_id)
    if product is None or product.deleted_at is not None:
        raise NotFound("Product not found.")
    stmt = (
        select(Review)
        .where(Review.product_id == product_id, Review.status == ReviewStatus.APPROVED)
        .limit(limit)
        .offset(offset)
    )
    return ReviewPage(
        rating=await rating(session, product_id), items=await _with_votes(session, stmt)
    )
