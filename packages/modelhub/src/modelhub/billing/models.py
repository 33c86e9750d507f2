"""Billing tables: the provider events already handled and the local mirror of invoices."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import UTCDateTime

#: How far along each invoice status is: a mirror only ever moves to a higher rank, so an
#: ``invoice.paid`` delivered before ``invoice.created`` is not undone by the late one.
STATUS_RANK = {"draft": 0, "open": 1, "paid": 2, "void": 2, "uncollectible": 2}


class PaymentEvent(UUIDPrimaryKey, Base):
    """A provider event that was handled; ``event_id`` is unique (delivery is at least once)."""

    __tablename__ = "payment_events"

    event_id: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("event_id", name="uq_payment_events_event_id"),)


class BillingInvoice(UUIDPrimaryKey, Base):
    """The provider's invoice as Modelhub last learnt it (amounts in integer minor units)."""

    __tablename__ = "billing_invoices"

    provider_id: Mapped[str] = mapped_column(String(255), nullable=False)
    customer: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount_due: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    amount_paid: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("provider_id", name="uq_billing_invoices_provider_id"),)


class BillingCustomer(UUIDPrimaryKey, Base):
    """A consumer's customer at the provider (one per consumer: unique)."""

    __tablename__ = "billing_customers"

    consumer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    provider_id: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("consumer_id", name="uq_billing_customers_consumer"),)


class BillingSubscription(UUIDPrimaryKey, Base):
    """A consumer's plan subscription as last changed through Modelhub (one per consumer).

    ``version`` counts the changes made: it is part of each provider call's idempotency key,
    so a retried change replays at the provider and a new change is a new call.
    """

    __tablename__ = "billing_subscriptions"

    consumer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    provider_id: Mapped[str] = mapped_column(String(255), nullable=False)
    plan: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    current_period_end: Mapped[int] = mapped_column(BigInteger, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("consumer_id", name="uq_billing_subscriptions_consumer"),)
