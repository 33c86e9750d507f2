"""Invoices and the per-year counter their numbers come from."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import UTCDateTime


class InvoiceSequence(Base):
    """The last invoice number given in a year. Incremented by a conditional update in the
    invoice's own transaction, so a rolled-back invoice gives its number back: no gaps."""

    __tablename__ = "shop_invoice_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, nullable=False)


class Invoice(UUIDPrimaryKey, Base):
    """The invoice of a paid order: its number and the stored PDF (content key)."""

    __tablename__ = "shop_invoices"
    __table_args__ = (UniqueConstraint("year", "sequence", name="uq_shop_invoices_year_sequence"),)

    order_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_orders.id", ondelete="RESTRICT"), nullable=False, unique=True
    )
    number: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    storage_key: Mapped[str] = mapped_column(String(128), nullable=False)
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
