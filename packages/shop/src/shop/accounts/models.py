"""Address book and profile (preferences, default addresses) of a customer."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey
from forgekit.db.types import JSONType


class Address(UUIDPrimaryKey, TimestampMixin, Base):
    """A postal address in a customer's address book."""

    __tablename__ = "shop_addresses"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    label: Mapped[str] = mapped_column(String(50), nullable=False, default="")
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    line1: Mapped[str] = mapped_column(String(200), nullable=False)
    line2: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    city: Mapped[str] = mapped_column(String(100), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    postcode: Mapped[str] = mapped_column(String(20), nullable=False)
    #: ISO 3166-1 alpha-2, upper case.
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    phone: Mapped[str] = mapped_column(String(32), nullable=False, default="")


class Profile(TimestampMixin, Base):
    """A customer's preferences. The default addresses live here, as foreign keys, so there
    is at most one default of each kind by construction (no flag to keep unique)."""

    __tablename__ = "shop_profiles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: BCP 47 language tag (``en``, ``fr-CA``).
    language: Mapped[str] = mapped_column(String(16), nullable=False, default="en")
    #: The sales channel (hence currency) the customer shops in; None: the shop's default.
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    marketing_emails: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: ``{kind: bool}`` for the notification kinds in :data:`shop.accounts.schemas.NOTIFY_KINDS`.
    notifications: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    default_shipping_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("shop_addresses.id", ondelete="SET NULL"), nullable=True
    )
    default_billing_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("shop_addresses.id", ondelete="SET NULL"), nullable=True
    )
