"""Request and response bodies of purchases."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


class PurchaseCreate(BaseModel):
    """``POST …/purchase``: the payment method to charge (a provider token)."""

    model_config = ConfigDict(extra="forbid")

    payment_method: Annotated[str, StringConstraints(min_length=3, max_length=255)]


class PurchaseRead(BaseModel):
    """A purchase and where its saga stands."""

    id: uuid.UUID
    model: str
    amount: int
    currency: str
    step: str
    payment_intent_id: str | None
    refund_id: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
