"""The purchase saga's state: one row per purchase, moved step by step by the worker."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import UTCDateTime


class Step(StrEnum):
    """Where the saga stands; each value names the step that runs next (or the end)."""

    CHARGE = "charge"
    GRANT = "grant"
    NOTIFY = "notify"
    COMPLETED = "completed"
    #: Compensation: refund the charge, then revoke any grant.
    REFUND = "refund"
    COMPENSATED = "compensated"
    #: Ended before any money moved (a declined card).
    FAILED = "failed"


#: States the saga never leaves.
FINAL = (Step.COMPLETED.value, Step.COMPENSATED.value, Step.FAILED.value)


class Purchase(UUIDPrimaryKey, Base):
    """A consumer buying access to a model: order → charge → grant → notify, or
    compensated (refund, revoke). ``(consumer_id, request_id)`` is unique (a retried order)."""

    __tablename__ = "purchases"

    consumer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("market_models.id", ondelete="CASCADE"), nullable=False
    )
    request_id: Mapped[str] = mapped_column(String(128), nullable=False)
    #: Integer minor units and ISO 4217 currency, fixed at order time.
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    payment_method: Mapped[str] = mapped_column(String(255), nullable=False)
    step: Mapped[str] = mapped_column(String(16), nullable=False, default=Step.CHARGE.value)
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    refund_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("consumer_id", "request_id", name="uq_purchases_request"),)
