"""Review request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


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


class Moderation(BaseModel):
    """A moderator's decision on a pending review."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision


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
    helpful: int = 0


class RatingSummary(BaseModel):
    """A product's average over its approved reviews (None without any)."""

    product_id: uuid.UUID
    average: float | None
    count: int


class ReviewPage(BaseModel):
    """A product's approved reviews, most helpful first, and its rating."""

    rating: RatingSummary
    items: list[ReviewRead]
