"""Request and response bodies of reviews."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from forgekit.pagination import Page

Stars = Annotated[int, Field(ge=1, le=5, description="1 to 5 stars")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Answer = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class ReviewSort(StrEnum):
    """Order of a model's reviews: newest first, or highest rating first."""

    RECENT = "recent"
    RATING = "rating"


class ReviewCreate(BaseModel):
    """``POST .../reviews``: the caller's one review of the model."""

    model_config = ConfigDict(extra="forbid")

    rating: Stars
    title: Title
    body: Body = ""


class ReviewUpdate(BaseModel):
    """``PATCH .../reviews/{id}``: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    rating: Stars | None = None
    title: Title | None = None
    body: Body | None = None


class ReplyIn(BaseModel):
    """The publisher's answer to a review."""

    model_config = ConfigDict(extra="forbid")

    body: Answer


class HideIn(BaseModel):
    """An admin hides a review, saying why."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class ReplyRead(BaseModel):
    """The publisher's answer."""

    body: str
    created_at: datetime
    updated_at: datetime


class ReviewRead(BaseModel):
    """A review as the API shows it (``hidden_reason`` only to its author and admins)."""

    id: uuid.UUID
    model_id: uuid.UUID
    author_id: uuid.UUID
    author: str
    rating: int
    title: str
    body: str
    reply: ReplyRead | None
    hidden: bool
    hidden_reason: str | None
    created_at: datetime
    updated_at: datetime


class RatingSummary(BaseModel):
    """A model's rating over its visible reviews."""

    average: float | None
    count: int
    #: Reviews per star count, ``"1"`` to ``"5"``.
    histogram: dict[str, int]


class ReviewPage(Page[ReviewRead]):
    """One page of a model's reviews, with the model's rating."""

    summary: RatingSummary
