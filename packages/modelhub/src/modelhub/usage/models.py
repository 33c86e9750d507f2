"""The usage record: which consumer has used which model (the marketplace's evidence)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import UTCDateTime


class UsageSource(StrEnum):
    """How a consumer used a model (inference calls and purchases join in part 2)."""

    DOWNLOAD = "download"
    INFERENCE = "inference"
    PURCHASE = "purchase"


class ModelUsage(UUIDPrimaryKey, Base):
    """One row per (consumer, model): the consumer has used the model, first and last when.

    Reviews require such a row ("used or bought"); popularity and co-usage recommendations
    count them. ``source`` is how the consumer first used the model, ``last_source`` the most
    recent way, ``uses`` how many times it was recorded.
    """

    __tablename__ = "model_usage"

    consumer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("market_models.id", ondelete="CASCADE"), nullable=False
    )
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    last_source: Mapped[str] = mapped_column(String(16), nullable=False)
    uses: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    first_used_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("consumer_id", "model_id", name="uq_model_usage_consumer_model"),
        # Popularity counts a model's recent users; co-usage joins on the model first.
        Index("ix_model_usage_model_recent", "model_id", "last_used_at"),
    )
