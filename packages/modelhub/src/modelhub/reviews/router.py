"""HTTP endpoints of reviews: ``/api/v1/models/{owner}/{name}/reviews``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from forgekit.deps import SessionDep
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from modelhub.permissions import Permission
from modelhub.registry.service import models
from modelhub.reviews.permissions import ReviewPermission
from modelhub.reviews.schemas import (
    HideIn,
    RatingSummary,
    ReplyIn,
    ReviewCreate,
    ReviewPage,
    ReviewRead,
    ReviewSort,
    ReviewUpdate,
)
from modelhub.reviews.service import reviews, to_read
from modelhub.runtime import ModelhubRuntimeDep

router = APIRouter(prefix="/api/v1/models/{owner}/{name}", tags=["reviews"])

Reader = Annotated[Principal, Depends(require_scopes(Permission.MODEL_READ))]
Writer = Annotated[
    Principal, Depends(require_scopes(Permission.MODEL_READ, ReviewPermission.REVIEW_WRITE))
]
Moderator = Annotated[
    Principal, Depends(require_scopes(Permission.MODEL_READ, ReviewPermission.REVIEW_MODERATE))
]


@router.get("/reviews")
async def list_reviews(
    owner: str,
    name: str,
    principal: Reader,
    session: SessionDep,
    runtime: ModelhubRuntimeDep,
    sort: ReviewSort = ReviewSort.RECENT,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> ReviewPage:
    """The model's reviews (newest or best first) with its rating summary."""
    model = await models.get(session, principal, owner, name)
    limit = min(limit, runtime.app_settings.max_page_size)
    return await reviews.list(session, principal, model, sort=sort, limit=limit, cursor=cursor)


@router.post("/reviews", status_code=status.HTTP_201_CREATED)
async def create_review(
    owner: str, name: str, data: ReviewCreate, principal: Writer, session: SessionDep
) -> ReviewRead:
    """Review a model you have used (one review per consumer; edit it with PATCH)."""
    model = await models.get(session, principal, owner, name)
    return await reviews.create(session, principal, model, data)


@router.get("/rating")
async def get_rating(
    owner: str, name: str, principal: Reader, session: SessionDep
) -> RatingSummary:
    """The model's rating: average, count and histogram of its visible reviews."""
    model = await models.get(session, principal, owner, name)
    return await reviews.summary(session, model)


@router.get("/reviews/{review_id}")
async def get_review(
    owner: str, name: str, review_id: uuid.UUID, principal: Reader, session: SessionDep
) -> ReviewRead:
    """One review (404 when hidden, except for its author and admins)."""
    model = await models.get(session, principal, owner, name)
    return to_read(*await reviews.get(session, principal, model, review_id))


@router.patch("/reviews/{review_id}")
async def update_review(
    owner: str,
    name: str,
    review_id: uuid.UUID,
    data: ReviewUpdate,
    principal: Writer,
    session: SessionDep,
) -> ReviewRead:
    """Edit your review."""
    model = await models.get(session, principal, owner, name)
    found = await reviews.get(session, principal, model, review_id)
    return await reviews.update(session, principal, model, found, data)


@router.post("/reviews/{review_id}/reply", status_code=status.HTTP_201_CREATED)
async def reply_to_review(
    owner: str, name: str, review_id: uuid.UUID, data: ReplyIn, principal: Writer,
    session: SessionDep,
) -> ReviewRead:  # fmt: skip
    """Answer a review of your model (once; edit the answer with PATCH)."""
    model = await models.get(session, principal, owner, name)
    found = await reviews.get(session, principal, model, review_id)
    return await reviews.reply(session, principal, model, found, data, edit=False)


@router.patch("/reviews/{review_id}/reply")
async def edit_reply(
    owner: str, name: str, review_id: uuid.UUID, data: ReplyIn, principal: Writer,
    session: SessionDep,
) -> ReviewRead:  # fmt: skip
    """Edit your answer to a review of your model."""
    model = await models.get(session, principal, owner, name)
    found = await reviews.get(session, principal, model, review_id)
    return await reviews.reply(session, principal, model, found, data, edit=True)


@router.post("/reviews/{review_id}/hide")
async def hide_review(
    owner: str, name: str, review_id: uuid.UUID, data: HideIn, principal: Moderator,
    session: SessionDep,
) -> ReviewRead:  # fmt: skip
    """Hide a review from everyone but its author and admins, with a reason (admins)."""
    model = await models.get(session, principal, owner, name)
    found = await reviews.get(session, principal, model, review_id)
    return await reviews.moderate(session, principal, model, found, data.reason)


@router.post("/reviews/{review_id}/restore")
async def restore_review(
    owner: str, name: str, review_id: uuid.UUID, principal: Moderator, session: SessionDep
) -> ReviewRead:
    """Show a hidden review again (admins)."""
    model = await models.get(session, principal, owner, name)
    found = await reviews.get(session, principal, model, review_id)
    return await reviews.moderate(session, principal, model, found, None)
