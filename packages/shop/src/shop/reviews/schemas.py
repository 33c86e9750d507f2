"""Review request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ReviewStatus(StrEnum):
    """Where a review is in moderation."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Decision(StrEnum):
    """A moderator's verdict."""

    APPROVE = "approve"
    REJECT = "reject"


class ReviewCreate(BaseModel):
    """A new review (the product is in the path)."""

    model_config = ConfigDict(extra="forbid")

    rating: Annotated[int, Field(ge=1, le=5)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(max_length=5000)] = ""


class ReviewEdit(BaseModel):
    """The author's changes (at least one field)."""

    model_config = ConfigDict(extra="forbid")

    rating: Annotated[int | None, Field(ge=1, le=5)] = None
    title: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    body: Annotated[str | None, Field(max_length=5000)] = None

    @model_validator(mode="after")
    def _something(self) -> ReviewEdit:
        if self.rating is None and self.title is None and self.body is None:
            raise ValueError("give at least one of rating, title, body")
        return self


class Moderation(BaseModel):
    """A moderator's decision on a pending review."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision


class SentimentLabel(StrEnum):
    """A review's (or an aspect's) overall sentiment."""

    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class AspectSentiment(BaseModel):
    """One aspect's label and the mean probabilities of the clauses that name it."""

    label: SentimentLabel
    negative: float
    neutral: float
    positive: float


class ReviewSentiment(BaseModel):
    """What the sentiment model read in a review's current title and body."""

    label: SentimentLabel
    probability: Annotated[float, Field(description="The probability of `label`.")]
    aspects: Annotated[
        dict[str, AspectSentiment],
        Field(description="Per aspect the review mentions, of: quality, delivery, price, "
                          "size_fit (absent when not mentioned)."),
    ]  # fmt: skip
    language: Annotated[str, Field(description="ISO 639-1 code; `und` without letters.")]
    model_version: Annotated[int, Field(description="The sentiment model version that scored it.")]
    scored_at: datetime


class ReviewRead(BaseModel):
    """A review as shown, with its helpful votes."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    product_id: uuid.UUID
    customer_id: uuid.UUID
    rating: int
    title: str
    body: str
    status: ReviewStatus
    created_at: datetime
    edited_at: datetime | None = None
    helpful: int = 0
    sentiment: Annotated[
        ReviewSentiment | None,
        Field(description="Set by the worker shortly after the review is written or its text "
                          "edited; null until then, or while no sentiment model is trained."),
    ] = None  # fmt: skip


class RatingSummary(BaseModel):
    """A product's average over its approved reviews (None without any)."""

    product_id: uuid.UUID
    average: float | None
    count: int


class ReviewPage(BaseModel):
    """A product's approved reviews, most helpful first, and its rating."""

    rating: RatingSummary
    items: list[ReviewRead]


class SentimentShares(BaseModel):
    """How many reviews, and the share of each label among them (null when none)."""

    count: int
    positive: float | None
    neutral: float | None
    negative: float | None


class ProductSentiment(BaseModel):
    """Sentiment over a product's approved reviews: overall and per aspect."""

    product_id: uuid.UUID
    reviews: Annotated[int, Field(description="Approved reviews.")]
    scored: Annotated[
        int,
        Field(description="Approved reviews with a sentiment (the shares' base); the rest "
                          "wait for the worker."),
    ]  # fmt: skip
    overall: SentimentShares
    aspects: Annotated[
        dict[str, SentimentShares],
        Field(description="Every aspect (quality, delivery, price, size_fit): the scored "
                          "reviews that mention it and its label shares among them."),
    ]  # fmt: skip
