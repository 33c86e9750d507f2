"""An order's payment (one per order), its refunds, and the provider events already handled."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey, utcnow
from forgekit.db.types import UTCDateTime


class PaymentStatus:
    """``creating`` (row first, then the provider call) → ``authorized`` → ``capturing``
    (claimed by one caller) → ``captured``; or ``failed`` (declined); or ``cancelled`` (the
    authorisation voided, e.g. a refused fraud review)."""

    CREATING = "creating"
    AUTHORIZED = "authorized"
    CAPTURING = "capturing"
    CAPTURED = "captured"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Payment(UUIDPrimaryKey, TimestampMixin, Base):
    """The provider's payment intent for an order and the money it moved (minor units)."""

    __tablename__ = "shop_payments"
    __table_args__ = (
        CheckConstraint("refunded <= captured", name="refunded_within_captured"),
        CheckConstraint("captured <= amount", name="captured_within_amount"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_orders.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    intent_id: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)
    payment_method: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    captured: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    refunded: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class PaymentRefund(UUIDPrimaryKey, Base):
    """Money returned on a payment; its id is the idempotency key of the provider call."""

    __tablename__ = "shop_payment_refunds"

    payment_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_payments.id", ondelete="CASCADE"), nullable=False, index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    provider_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class ProcessedEvent(Base):
    """A provider event already handled (webhooks arrive at least once)."""

    __tablename__ = "shop_payment_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
