"""Catalogue tables: sales channels (each with one currency), a category tree, products with
variants, a price per variant and channel, and every price a variant ever had."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
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

from forgekit.db.base import Base, SoftDeleteMixin, TimestampMixin, UUIDPrimaryKey, utcnow
from forgekit.db.types import JSONType, UTCDateTime


class Channel(UUIDPrimaryKey, TimestampMixin, Base):
    """A storefront (``eu``, ``us``) selling in one currency; prices are per channel."""

    __tablename__ = "shop_channels"

    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    #: ISO 4217, lower-case (as the payment port writes it).
    currency: Mapped[str] = mapped_column(String(3), nullable=False)


class Category(UUIDPrimaryKey, TimestampMixin, Base):
    """A node of the category tree (``parent_id`` None: a root)."""

    __tablename__ = "shop_categories"

    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("shop_categories.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    slug: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)


class Product(UUIDPrimaryKey, TimestampMixin, SoftDeleteMixin, Base):
    """A product as customers see it; what is bought is one of its variants."""

    __tablename__ = "shop_products"

    slug: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("shop_categories.id", ondelete="SET NULL"), nullable=True, index=True
    )
    #: Product-wide attributes (brand, material): JSON, searchable and filterable.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    #: Set while published; None is a draft or an unpublished product.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Variant(UUIDPrimaryKey, TimestampMixin, SoftDeleteMixin, Base):
    """A buyable variant of a product (one size and colour), identified by its SKU."""

    __tablename__ = "shop_variants"
    __table_args__ = (CheckConstraint("weight_grams >= 0", name="weight_not_negative"),)

    product_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_products.id", ondelete="CASCADE"), nullable=False, index=True
    )
    sku: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    #: Variant attributes (``{"size": "M", "colour": "blue"}``).
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    weight_grams: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class VariantPrice(TimestampMixin, Base):
    """The current price of a variant in a channel (integer minor units of its currency)."""

    __tablename__ = "shop_variant_prices"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    variant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_variants.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_channels.id", ondelete="CASCADE"), primary_key=True
    )
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)


class PriceHistory(UUIDPrimaryKey, Base):
    """One price a variant had in a channel, from ``valid_from`` until ``valid_to`` (None: it
    is the current one). Never updated except to close it when the next price starts."""

    __tablename__ = "shop_price_history"
    __table_args__ = (
        Index("ix_shop_price_history_lookup", "variant_id", "channel_id", "valid_from"),
        # At most one open (current) row per variant and channel.
        UniqueConstraint("variant_id", "channel_id", "open_marker"),
    )

    variant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_variants.id", ondelete="CASCADE"), nullable=False
    )
    channel_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_channels.id", ondelete="CASCADE"), nullable=False
    )
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: 1 while the row is open, NULL once closed: NULLs never collide in a unique constraint,
    #: so the database itself refuses two current prices.
    open_marker: Mapped[int | None] = mapped_column(Integer, nullable=True)
    changed_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
