"""Carts in and out."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from shop.catalogue.schemas import Money


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CartToken(BaseModel):
    """``POST /api/v1/carts``: an anonymous cart's token (send it as ``X-Cart-Token``)."""

    token: str


class LineAdd(_Strict):
    """``POST /api/v1/cart/lines``: add units of a variant."""

    variant_id: uuid.UUID
    # Strict: lax validation took ``false``/``true`` as 0/1 (found by schemathesis).
    quantity: int = Field(default=1, ge=1, le=1000, strict=True)


class LineSet(_Strict):
    """``PUT /api/v1/cart/lines/{variant_id}``: set the quantity (0 removes the line)."""

    quantity: int = Field(ge=0, le=1000, strict=True)


class CartMerge(_Strict):
    """``POST /api/v1/cart/merge``: move an anonymous cart into the signed-in customer's."""

    token: str = Field(min_length=20, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class CartLine(BaseModel):
    """A line with the variant's current price in the channel (None: not sold there)."""

    variant_id: uuid.UUID
    sku: str
    name: str
    quantity: int
    unit_price: Money | None
    line_total: Money | None


class CartRead(BaseModel):
    """A cart priced in a channel."""

    channel: str
    lines: list[CartLine]
    subtotal: Money
