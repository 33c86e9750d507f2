"""Warehouses, stock levels and reservations.

``reserved`` never exceeds ``on_hand`` and neither goes below zero: CHECK constraints hold
it, and every change is one conditional ``UPDATE`` (never read-then-write), so concurrent
checkouts cannot oversell.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey, utcnow
from forgekit.db.types import UTCDateTime


class Warehouse(UUIDPrimaryKey, TimestampMixin, Base):
    """A stock location; lower ``priority`` ships first."""

    __tablename__ = "shop_warehouses"

    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=100)


class Stock(TimestampMixin, Base):
    """How many units of a variant a warehouse holds, and how many of them are promised."""

    __tablename__ = "shop_stock"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )

    variant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_variants.id", ondelete="CASCADE"), primary_key=True
    )
    warehouse_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_warehouses.id", ondelete="CASCADE"), primary_key=True
    )
    on_hand: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reserved: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ReservationStatus:
    """A reservation's life: ``active`` (held until it expires) → ``allocated`` (the order is
    confirmed: held without expiry) → ``shipped`` (the units left the warehouse); ``active``
    or ``allocated`` → ``released`` (expired or cancelled: the units are free again)."""

    ACTIVE = "active"
    ALLOCATED = "allocated"
    SHIPPED = "shipped"
    RELEASED = "released"


class Reservation(UUIDPrimaryKey, Base):
    """Units of a variant held in one warehouse for an order until ``expires_at``."""

    __tablename__ = "shop_reservations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("restocked >= 0 AND restocked <= quantity", name="restocked_in_range"),
        Index("ix_shop_reservations_expiry", "status", "expires_at"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    variant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_variants.id", ondelete="CASCADE"), nullable=False
    )
    warehouse_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_warehouses.id", ondelete="CASCADE"), nullable=False
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default=ReservationStatus.ACTIVE
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: Units of a ``shipped`` record that came back and went on the shelf again (returns).
    restocked: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
