"""Payments in and out."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class PaymentCreate(BaseModel):
    """``POST /api/v1/orders/{id}/payment``: a payment method token (``pm_card_visa``)."""

    model_config = ConfigDict(extra="forbid")

    payment_method: str = Field(min_length=3, max_length=255, pattern=r"^[A-Za-z0-9_]+$")


class RefundCreate(BaseModel):
    """``POST /api/v1/orders/{id}/refunds``: all that is left, or ``amount`` of it."""

    model_config = ConfigDict(extra="forbid")

    amount: int | None = Field(default=None, ge=1)
    reason: str | None = Field(default=None, max_length=500)


class PaymentRead(BaseModel):
    """An order's payment; amounts in minor units."""

    model_config = ConfigDict(from_attributes=True)

    order_id: uuid.UUID
    intent_id: str | None
    status: str
    amount: int
    currency: str
    captured: int
    refunded: int


class RefundRead(BaseModel):
    """A refund."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    amount: int
    status: str
    provider_id: str | None
    reason: str | None
