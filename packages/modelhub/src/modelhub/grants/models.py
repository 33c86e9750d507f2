"""Access grants: a consumer may call a model because they bought it (the purchase saga's
"grant access" step writes one; its compensation revokes it)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import UTCDateTime


class ModelGrant(UUIDPrimaryKey, Base):
    """One consumer's access to one model; revoked grants stay as history."""

    __tablename__ = "model_grants"

    consumer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("market_models.id", ondelete="CASCADE"), nullable=False
    )
    #: What created it (``purchase``, ``admin``) and its reference (an order id, say).
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(128), nullable=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("consumer_id", "model_id", name="uq_model_grants_consumer_model"),
    )
