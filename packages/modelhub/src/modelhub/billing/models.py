"""Billing tables: provider events handled, the invoice mirror with its dunning state,
customers and subscriptions, the monthly usage invoices, refunds, and the publisher ledger
with its payouts. Money is always integer minor units beside its currency."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import UTCDateTime

#: How far along each invoice status is: a mirror only ever moves to a higher rank, so an
#: ``invoice.paid`` delivered before ``invoice.created`` is not undone by the late one.
#: ``past_due`` is Modelhub's own (an open invoice whose charge failed, being retried).
STATUS_RANK = {"draft": 0, "open": 1, "past_due": 2, "paid": 3, "void": 3, "uncollectible": 3}

#: The provider's statuses of a subscription, in the order they can follow each other within
#: one second (events carry whole seconds): ties are settled by this rank, forward only.
SUBSCRIPTION_RANK = {"incomplete": 0, "trialing": 1, "active": 2, "past_due": 3, "unpaid": 4,
                     "paused": 4, "incomplete_expired": 5, "canceled": 5}  # fmt: skip


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
    #: The charge of the paid invoice (refunds go against it).
    payment_intent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: Failed charges so far, and when the next retry is due (``past_due`` only).
    attempt_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Refunded so far; never above ``amount_paid`` (a conditional update keeps it so).
    amount_refunded: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)

    __table_args__ = (
        UniqueConstraint("provider_id", name="uq_billing_invoices_provider_id"),
        Index("ix_billing_invoices_retry", "status", "next_retry_at"),
    )


class BillingCustomer(UUIDPrimaryKey, Base):
    """A consumer's customer at the provider (one per consumer: unique)."""

    __tablename__ = "billing_customers"

    consumer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    provider_id: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: Set when an invoice ended uncollectible: paid access (grants, calls past the free
    #: tier) stops until staff lift it.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("consumer_id", name="uq_billing_customers_consumer"),
        Index("ix_billing_customers_provider", "provider_id"),
    )


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
    #: ``created`` of the last provider event applied (``customer.subscription.*``): an
    #: older event never overwrites a newer one.
    event_created: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)

    __table_args__ = (UniqueConstraint("consumer_id", name="uq_billing_subscriptions_consumer"),)


class UsageInvoice(UUIDPrimaryKey, Base):
    """One consumer's usage invoice of one month (``period`` ``YYYY-MM``), unique per both.

    Its lines are frozen when the row is created, so a rerun bills what the first run
    planned; ``provider_invoice_id`` is set once the provider made the invoice.
    """

    __tablename__ = "usage_invoices"

    consumer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    period: Mapped[str] = mapped_column(String(7), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    provider_invoice_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("consumer_id", "period", name="uq_usage_invoices_period"),
        Index("ix_usage_invoices_provider", "provider_invoice_id"),
    )


class UsageInvoiceLine(UUIDPrimaryKey, Base):
    """One model's billable usage on a usage invoice, and whose revenue it is."""

    __tablename__ = "usage_invoice_lines"

    invoice_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("usage_invoices.id", ondelete="CASCADE"), nullable=False
    )
    model_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    publisher_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    description: Mapped[str] = mapped_column(String(255), nullable=False)
    billable_calls: Mapped[int] = mapped_column(BigInteger, nullable=False)
    compute_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    provider_item_id: Mapped[str | None] = mapped_column(String(255), nullable=True)

    __table_args__ = (
        UniqueConstraint("invoice_id", "model_id", name="uq_usage_invoice_lines_model"),
        CheckConstraint("amount > 0", name="line_positive"),
    )


class DunningNotice(UUIDPrimaryKey, Base):
    """One failed charge attempt of an invoice: one e-mail each (unique per attempt), however
    many times the failure is reported (webhook redeliveries, the retry job itself)."""

    __tablename__ = "billing_dunning_notices"

    invoice_provider_id: Mapped[str] = mapped_column(String(255), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("invoice_provider_id", "attempt", name="uq_billing_dunning_attempt"),
    )


class InvoiceRefund(UUIDPrimaryKey, Base):
    """A refund of (part of) a paid invoice, ordered by staff; ``request_id`` (the
    ``Idempotency-Key``) is unique per invoice, so a retried order refunds once."""

    __tablename__ = "billing_refunds"

    invoice_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("billing_invoices.id", ondelete="CASCADE"), nullable=False
    )
    request_id: Mapped[str] = mapped_column(String(128), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: ``pending`` until the provider confirmed, then ``succeeded``.
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    provider_refund_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("invoice_id", "request_id", name="uq_billing_refunds_request"),
        CheckConstraint("amount > 0", name="refund_positive"),
    )


class LedgerEntry(UUIDPrimaryKey, Base):
    """An append-only row of a publisher's account: a credit (positive ``amount``) when a
    consumer paid for their model, a debit (negative) on a refund or a payout.

    ``reference`` names the business fact (``usage-line-<id>``, ``purchase-<id>``,
    ``refund-<id>-<line>``, ``payout-<id>``) and is unique: recording a fact twice is a no-op.
    """

    __tablename__ = "publisher_ledger"

    publisher_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    reference: Mapped[str] = mapped_column(String(255), nullable=False)
    memo: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("reference", name="uq_publisher_ledger_reference"),
        Index("ix_publisher_ledger_publisher", "publisher_id", "currency"),
    )


class Payout(UUIDPrimaryKey, Base):
    """One attempt to pay out a publisher's balance for one period: unique per (publisher,
    period, currency, attempt), so a rerun of the payout job, or two workers at once, record
    it once. Its ledger debit is ``payout-<id>``; a failed transfer's credit-back is
    ``payout-<id>-failed``, and the balance it restores becomes the next attempt.
    """

    __tablename__ = "publisher_payouts"

    publisher_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    period: Mapped[str] = mapped_column(String(7), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: ``pending``: debited, the transfer not yet confirmed (or no payout account yet);
    #: ``paid``: the provider's transfer ``transfer_id`` moved it; ``failed``: refused and
    #: credited back.
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    #: The connected account the transfer goes to, fixed before the first call so that a
    #: retry repeats the same request under the same idempotency key.
    destination: Mapped[str | None] = mapped_column(String(255), nullable=True)
    transfer_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    failure: Mapped[str | None] = mapped_column(String(255), nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint(
            "publisher_id", "period", "currency", "attempt", name="uq_publisher_payouts_attempt"
        ),
        CheckConstraint("amount > 0", name="payout_positive"),
        Index("ix_publisher_payouts_status", "status"),
    )


class PayoutAccount(UUIDPrimaryKey, Base):
    """A publisher's connected account at the payment provider (one per publisher), where
    their payouts are transferred."""

    __tablename__ = "publisher_payout_accounts"

    publisher_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    account_id: Mapped[str] = mapped_column(String(255), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("publisher_id", name="uq_publisher_payout_accounts"),)
