"""Tables of reviews and of each model's rating summary."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey
from forgekit.db.types import UTCDateTime


class Review(UUIDPrimaryKey, TimestampMixin, Base):
    """A consumer's 1-5 star review of a model, with the publisher's one answer.

    A hidden review (``hidden_at`` set by an admin) is shown only to its author and admins and
    is left out of the model's rating.
    """

    __tablename__ = "model_reviews"

    model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("market_models.id", ondelete="CASCADE"), nullable=False
    )
    author_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    rating: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reply_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hidden_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    hidden_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (
        # One review per consumer per model: a second one is an edit (PATCH), never a POST.
        UniqueConstraint("model_id", "author_id", name="uq_model_reviews_model_author"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        # The two listing orders (recent, rating) of one model's reviews.
        Index("ix_model_reviews_model_recent", "model_id", "created_at"),
        Index("ix_model_reviews_model_rating", "model_id", "rating"),
    )


class ModelRating(Base):
    """A model's rating over its visible reviews, recomputed on every review change.

    Kept as a row (not computed per request) so that search can sort by ``average``.
    """

    __tablename__ = "model_ratings"

    model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("market_models.id", ondelete="CASCADE"), primary_key=True
    )
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: None while the model has no visible review.
    average: Mapped[float | None] = mapped_column(Float, nullable=True)
    stars_1: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    stars_2: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    stars_3: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    stars_4: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    stars_5: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    __table_args__ = (Index("ix_model_ratings_average", "average", "count"),)
