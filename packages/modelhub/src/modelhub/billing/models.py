"""Billing tables: the provider events already handled and the local mirror of invoices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, UniqueConstraint
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
