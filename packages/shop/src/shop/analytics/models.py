"""The storefront's event log: one row per product view, cart add, checkout and payment."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import UTCDateTime


class EventKind(StrEnum):
    """What a visitor did; the funnel's steps, in order."""

    VIEWED = "product_viewed"
    CARTED = "added_to_cart"
    CHECKOUT = "checkout_started"
    PAID = "paid"


class AnalyticsEvent(UUIDPrimaryKey, Base):
    """One storefront event. Append-only and without foreign keys: recording one is a single
    insert that nothing else waits on, and the log outlives what it refers to."""

    __tablename__ = "shop_analytics_events"
    __table_args__ = (
        Index("ix_shop_analytics_events_kind_at", "kind", "at"),
        Index("ix_shop_analytics_events_order", "order_id"),
    )

    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: Who, across requests: ``u:<user id>`` or ``a:<hash of the anonymous cart token>``.
    visitor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    product_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    variant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    quantity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: Money of a payment, in minor units of ``currency``.
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
