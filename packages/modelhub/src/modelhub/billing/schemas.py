"""Request and response bodies of the billing API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SubscriptionChange(BaseModel):
    """Subscribe to ``plan`` (or move to it: an upgrade or a downgrade, prorated).
    ``payment_method`` is needed the first time (a token such as ``pm_card_visa``)."""

    model_config = ConfigDict(extra="forbid")

    plan: str = Field(min_length=1, max_length=64)
    payment_method: str | None = Field(default=None, min_length=1, max_length=255)


class SubscriptionRead(BaseModel):
    """A consumer's subscription: its plan, monthly price in minor units and status."""

    plan: str
    amount: int
    currency: str
    status: str
    cancel_at_period_end: bool
    current_period_end: int
