"""A product's ordered gallery; the bytes live in object storage under their SHA-256."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import UTCDateTime


class ProductImage(UUIDPrimaryKey, Base):
    """One image of a product (cleaned original plus two WebP thumbnails)."""

    __tablename__ = "shop_product_images"
    __table_args__ = (Index("ix_shop_product_images_product_position", "product_id", "position"),)

    product_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_products.id", ondelete="CASCADE"), nullable=False
    )
    #: Gallery order (lowest first; ties by id).
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_type: Mapped[str] = mapped_column(String(32), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    thumb_small_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    thumb_large_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    alt: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
