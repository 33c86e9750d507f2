"""Reviews over HTTP: customers write and vote, everyone reads, staff moderate."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from forgekit.deps import SessionDep
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from shop.paths import PRODUCT_ID
from shop.permissions import Permission
from shop.reviews import sentiment, service
from shop.reviews.schemas import (
    Moderation,
    ProductSentiment,
    ReviewCreate,
    ReviewEdit,
    ReviewPage,
    ReviewRead,
)

router = APIRouter(prefix="/api/v1", tags=["reviews"])

Customer = Annotated[Principal, Depends(require_scopes(Permission.SHOP))]
Moderator = Annotated[Principal, Depends(require_scopes(Permission.MODERATE))]


@router.post(f"/products/{PRODUCT_ID}/reviews", status_code=status.HTTP_201_CREATED)
async def write_review(
    product_id: uuid.UUID, data: ReviewCreate, principal: Customer, session: SessionDep
) -> ReviewRead:
    """Review a product the caller received; it waits in the moderation queue."""
    return await service.create(session, product_id, principal.user_id, data)


@router.get(f"/products/{PRODUCT_ID}/reviews")
async def read_reviews(
    product_id: uuid.UUID,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ReviewPage:
    """A product's approved reviews and its average rating (public)."""
    return await service.product_reviews(session, product_id, limit, offset)


@router.get(f"/products/{PRODUCT_ID}/reviews/sentiment")
async def reviews_sentiment(product_id: uuid.UUID, session: SessionDep) -> ProductSentiment:
    """Sentiment of a product's approved reviews (public): the share of positive, neutral and
    negative reviews, and the same per aspect (quality, delivery, price, size_fit) over the
    reviews that mention it. Reviews the worker has not scored yet are counted in `reviews`
    but not in the shares."""
    return await sentiment.product_sentiment(session, product_id)


@router.patch("/reviews/{review_id}")
async def edit_review(
    review_id: uuid.UUID, data: ReviewEdit, principal: Customer, session: SessionDep
) -> ReviewRead:
    """Change one's own review (author only): it goes back to the moderation queue, and a
    changed title or body is scored for sentiment again."""
    return await service.edit(session, review_id, principal.user_id, data)


@router.get("/reviews/queue")
async def moderation_queue(
    principal: Moderator,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReviewRead]:
    """Reviews waiting for moderation, oldest first (staff)."""
    return await service.queue(session, limit)


@router.post("/reviews/{review_id}/moderation")
async def moderate(
    review_id: uuid.UUID, data: Moderation, principal: Moderator, session: SessionDep
) -> ReviewRead:
    """Approve or reject a pending review (staff)."""
    return await service.moderate(session, review_id, data.decision, principal.user_id)


@router.post("/reviews/{review_id}/helpful")
async def helpful(review_id: uuid.UUID, principal: Customer, session: SessionDep) -> ReviewRead:
    """Say an approved review helped (once per user)."""
    return await service.vote(session, review_id, principal.user_id)
