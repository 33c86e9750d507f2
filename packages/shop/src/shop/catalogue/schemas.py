"""Catalogue requests and responses (money always integer minor units plus currency)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$", max_length=100)
]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[a-z]{3}$")]
ChannelCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
#: Minor units; a cap far above any real price keeps sums inside 64 bits.
Amount = Annotated[int, Field(ge=0, le=10**12)]
AttributeKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]
#: Text or whole numbers only, so that filters and facets read them alike on both databases.
Attributes = Annotated[
    dict[AttributeKey, Annotated[str, StringConstraints(max_length=200)] | int],
    Field(max_length=50),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Money(BaseModel):
    """An amount in minor units of a currency."""

    amount: int
    currency: str


class ChannelCreate(_Strict):
    """``POST /api/v1/channels``."""

    code: ChannelCode
    name: Name
    currency: Currency


class ChannelRead(BaseModel):
    """A sales channel."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    currency: str


class CategoryCreate(_Strict):
    """``POST /api/v1/categories``."""

    slug: Slug
    name: Name
    parent_id: uuid.UUID | None = None


class CategoryMove(_Strict):
    """``POST /api/v1/categories/{id}/move``: a new parent (None: make it a root)."""

    parent_id: uuid.UUID | None


class CategoryRead(BaseModel):
    """A category node."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    parent_id: uuid.UUID | None
    slug: str
    name: str


class CategoryNode(CategoryRead):
    """A category with its sub-tree."""

    children: list[CategoryNode] = []


class VariantCreate(_Strict):
    """A variant of a new or existing product, with its prices by channel code."""

    sku: Sku
    name: str = Field(default="", max_length=200)
    attributes: Attributes = {}
    weight_grams: int = Field(default=0, ge=0, le=10**7)
    prices: dict[ChannelCode, Amount] = {}


class ProductCreate(_Strict):
    """``POST /api/v1/products``: a draft product and its variants."""

    slug: Slug
    name: Name
    description: str = Field(default="", max_length=20_000)
    category_id: uuid.UUID | None = None
    attributes: Attributes = {}
    variants: list[VariantCreate] = Field(default=[], max_length=100)


class ProductUpdate(_Strict):
    """``PATCH /api/v1/products/{id}``: the fields given are replaced."""

    name: Name | None = None
    description: str | None = Field(default=None, max_length=20_000)
    category_id: uuid.UUID | None = None
    attributes: Attributes | None = None


class PriceSet(_Strict):
    """``PUT /api/v1/variants/{id}/prices/{channel}``."""

    amount: Amount


class VariantRead(BaseModel):
    """A variant with its price in the requested channel and the lowest price of the last 30
    days there (the EU's prior-price rule)."""

    id: uuid.UUID
    sku: str
    name: str
    attributes: dict[str, Any]
    weight_grams: int
    price: Money | None
    lowest_price_30d: Money | None


class ProductRead(BaseModel):
    """A product as a channel shows it."""

    id: uuid.UUID
    slug: str
    name: str
    description: str
    category_id: uuid.UUID | None
    breadcrumb: list[CategoryRead]
    attributes: dict[str, Any]
    published: bool
    published_at: datetime | None
    deleted: bool
    created_at: datetime
    channel: str
    variants: list[VariantRead]


class PricePoint(BaseModel):
    """One entry of a variant's price history."""

    amount: int
    currency: str
    valid_from: datetime
    valid_to: datetime | None
    changed_by: uuid.UUID | None
