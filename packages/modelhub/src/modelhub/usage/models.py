"""The usage record: which consumer has used which model (the marketplace's evidence)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
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


class UsageEvent(UUIDPrimaryKey, Base):
    """One billable call: who called which model version, when, and how much it computed.

    ``(consumer_id, request_id)`` is unique: a retried request (same ``Idempotency-Key``) is
    never counted twice, whichever API process or worker records it. ``input_sha256`` lets a
    retry with different inputs under the same key be refused.
    """

    __tablename__ = "usage_events"

    consumer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("market_models.id", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[str] = mapped_column(String(64), nullable=False)
    request_id: Mapped[str] = mapped_column(String(128), nullable=False)
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    input_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    #: Inputs in the call (a batch call holds several).
    items: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    compute_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: Answered from the deterministic-response cache (no compute).
    cached: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: When the call happened (an hour's aggregate is the hour of this, however late recorded).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("consumer_id", "request_id", name="uq_usage_events_request"),
        Index("ix_usage_events_model_time", "model_id", "occurred_at"),
        Index("ix_usage_events_consumer_time", "consumer_id", "occurred_at"),
    )


class UsageHourly(UUIDPrimaryKey, Base):
    """The published aggregate: calls and compute per consumer, model and hour.

    Updated in the transaction that records each new event, at the event's own hour, so an
    event arriving late amends the hour it belongs to (``revision`` counts the amendments).
    """

    __tablename__ = "usage_hourly"

    consumer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("market_models.id", ondelete="CASCADE"), nullable=False
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    calls: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    items: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    compute_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    #: Calls that reached the model and failed (overloaded, timed out, rejected): not billed.
    errors: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("consumer_id", "model_id", "hour", name="uq_usage_hourly_period"),
        Index("ix_usage_hourly_model_hour", "model_id", "hour"),
    )
