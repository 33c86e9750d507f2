"""Request and response bodies of the model registry."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from forgekit.pagination import Page
from modelhub.registry.models import ModelStatus, Visibility

#: A model's name: the second half of its ``owner/name`` slug (URL-safe, lowercase).
ModelName = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$")
]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Pricing(BaseModel):
    """How calls are billed: a free tier, then per 1,000 calls or per second of compute."""

    model_config = ConfigDict(extra="forbid")

    free_calls_per_month: int = Field(default=0, ge=0, le=10_000_000)
    price_per_1k_calls: Decimal | None = Field(default=None, ge=0, max_digits=10, decimal_places=4)
    price_per_compute_second: Decimal | None = Field(
        default=None, ge=0, max_digits=10, decimal_places=6
    )
    #: One-off price of access (buying grants calls past the free tier), in minor units.
    purchase_price: int | None = Field(default=None, ge=50, le=100_000_000)


class ModelCreate(BaseModel):
    """``POST /api/v1/models``: a new draft."""

    model_config = ConfigDict(extra="forbid")

    name: ModelName
    title: Title
    description: Annotated[str, StringConstraints(max_length=100_000)] = ""
    task: Word
    framework: Word
    license: Word
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    pricing: Pricing = Field(default_factory=Pricing)
    visibility: Visibility = Visibility.PRIVATE
    metadata: dict[str, Any] = Field(default_factory=dict)


class ModelUpdate(BaseModel):
    """``PATCH /api/v1/models/{owner}/{name}``: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Annotated[str, StringConstraints(max_length=100_000)] | None = None
    task: Word | None = None
    framework: Word | None = None
    license: Word | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    pricing: Pricing | None = None
    visibility: Visibility | None = None
    metadata: dict[str, Any] | None = None


class ModelRead(BaseModel):
    """A model as the API shows it."""

    id: uuid.UUID
    slug: str
    owner_id: uuid.UUID
    name: str
    title: str
    description: str
    task: str
    framework: str
    license: str
    tags: list[str]
    pricing: Pricing
    visibility: Visibility
    status: ModelStatus
    metadata: dict[str, Any]
    #: Download links handed out (popularity: the tie-break after recent users).
    downloads: int
    created_at: datetime
    updated_at: datetime


ModelPage = Page[ModelRead]
"""One page of models."""
