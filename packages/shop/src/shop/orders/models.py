"""Orders, their lines (prices frozen at checkout) and their history (who moved them, when)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey, utcnow
from forgekit.db.types import JSONType, UTCDateTime


class Order(UUIDPrimaryKey, TimestampMixin, Base):
    """An order: its status (see :mod:`shop.orders.states`) and its money, in minor units."""

    __tablename__ = "shop_orders"
    __table_args__ = (
        CheckConstraint("total >= 0", name="total_not_negative"),
        Index("ix_shop_orders_customer", "customer_id", "created_at"),
        Index("ix_shop_orders_status_expiry", "status", "expires_at"),
    )

    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    channel_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_channels.id", ondelete="RESTRICT"), nullable=False
    )
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    subtotal: Mapped[int] = mapped_column(BigInteger, nullable=False)
    discount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    shipping: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    tax: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    discount_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    #: An unconfirmed (unpaid) order expires at this moment; its reservations go back.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OrderLine(UUIDPrimaryKey, Base):
    """A variant bought, with the name and price it had at checkout, and how many of its
    units were shipped and returned."""

    __tablename__ = "shop_order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("fulfilled >= 0 AND fulfilled <= quantity", name="fulfilled_in_range"),
        CheckConstraint("returned >= 0 AND returned <= fulfilled", name="returned_in_range"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    variant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_variants.id", ondelete="RESTRICT"), nullable=False
    )
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(400), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price: Mapped[int] = mapped_column(BigInteger, nullable=False)
    weight_grams: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    fulfilled: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    returned: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class OrderHistory(UUIDPrimaryKey, Base):
    """One transition of an order: from, to, by whom (None: the system) and when."""

    __tablename__ = "shop_order_history"

    order_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    from_status: Mapped[str] = mapped_column(String(24), nullable=False)
    to_status: Mapped[str] = mapped_column(String(24), nullable=False)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)


class Fulfilment(UUIDPrimaryKey, Base):
    """A shipment of some of an order's units, with its carrier's tracking number."""

    __tablename__ = "shop_fulfilments"

    order_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_orders.id", ondelete="CASCADE"), nullable=False, index=True
    )
    carrier: Mapped[str] = mapped_column(String(64), nullable=False)
    tracking_number: Mapped[str] = mapped_column(String(128), nullable=False)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class FulfilmentLine(UUIDPrimaryKey, Base):
    """Units of one order line in a shipment."""

    __tablename__ = "shop_fulfilment_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    fulfilment_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_fulfilments.id", ondelete="CASCADE"), nullable=False, index=True
    )
    order_line_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_order_lines.id", ondelete="CASCADE"), nullable=False
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
