"""Request and response bodies of the billing API."""

from __future__ import annotations

import uuid
from datetime import datetime

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


class RefundCreate(BaseModel):
    """Refund ``amount`` minor units of a paid invoice (all that is left when omitted)."""

    model_config = ConfigDict(extra="forbid")

    amount: int | None = Field(default=None, gt=0, le=10**12)
    reason: str | None = Field(default=None, max_length=500)


class RefundRead(BaseModel):
    """A refund and where its invoice stands (amounts in minor units)."""

    id: uuid.UUID
    invoice: str
    amount: int
    currency: str
    status: str
    reason: str | None
    provider_refund_id: str | None
    invoice_amount_paid: int
    invoice_amount_refunded: int
    created_at: datetime


class Balance(BaseModel):
    """A publisher's balance in one currency (minor units)."""

    publisher_id: uuid.UUID
    currency: str
    balance: int


class LedgerRow(BaseModel):
    """One ledger row: positive credits, negative debits."""

    model_config = ConfigDict(from_attributes=True)

    amount: int
    currency: str
    kind: str
    reference: str
    memo: str
    created_at: datetime


class LedgerRead(BaseModel):
    """``GET /api/v1/billing/ledger``: balances per currency and the latest rows."""

    balances: list[Balance]
    entries: list[LedgerRow]


class PayoutRead(BaseModel):
    """A payout of a publisher's balance for one period."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    publisher_id: uuid.UUID
    period: str
    currency: str
    amount: int
    status: str
    attempt: int
    destination: str | None
    transfer_id: str | None
    failure: str | None
    settled_at: datetime | None
    created_at: datetime


class PayoutAccountSet(BaseModel):
    """Where payouts go: an existing connected account id at the provider, or none to have
    one created."""

    model_config = ConfigDict(extra="forbid")

    account_id: str | None = Field(default=None, pattern=r"^acct_[A-Za-z0-9]{1,64}$")


class PayoutAccountRead(BaseModel):
    """A publisher's payout account."""

    model_config = ConfigDict(from_attributes=True)

    publisher_id: uuid.UUID
    account_id: str
    updated_at: datetime
