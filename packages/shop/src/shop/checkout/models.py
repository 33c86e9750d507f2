"""Discount codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey
from forgekit.db.types import UTCDateTime


class Discount(UUIDPrimaryKey, TimestampMixin, Base):
    """A code customers type at checkout: ``percentage`` (``value`` in basis points),
    ``fixed`` (``value`` in minor units of ``currency``) or ``free_shipping``."""

    __tablename__ = "shop_discounts"
    __table_args__ = (
        CheckConstraint("value >= 0", name="value_not_negative"),
        CheckConstraint("max_uses IS NULL OR used <= max_uses", name="used_within_limit"),
    )

    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    used: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
