"""Review tables: one review per customer and product, and one helpful vote per user."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import JSONType, UTCDateTime


class Review(UUIDPrimaryKey, Base):
    """A customer's 1-5 star review of a product they received; shown once approved."""

    __tablename__ = "shop_reviews"
    __table_args__ = (
        # Idempotency by constraint: a second review by the same customer is a 409.
        UniqueConstraint("product_id", "customer_id", name="uq_shop_reviews_product_customer"),
        CheckConstraint("rating >= 1 AND rating <= 5", name="rating_in_range"),
        Index("ix_shop_reviews_product_status", "product_id", "status"),
        Index("ix_shop_reviews_status_created", "status", "created_at"),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_products.id", ondelete="CASCADE"), nullable=False
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    rating: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: ``pending`` (in the moderation queue), ``approved`` or ``rejected``.
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    moderated_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: When the author last changed the review (None: never).
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Sentiment of the *current* title and body (migration shop_0008), all NULL until the
    # worker scores it: an edit of the text clears them in its own transaction, so a stored
    # score never describes text that is gone.
    #: ``negative``, ``neutral`` or ``positive``.
    sentiment_label: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: The probability of that label.
    sentiment_probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: Per mentioned aspect (quality, delivery, price, size_fit): label and probabilities.
    sentiment_aspects: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    #: ISO 639-1 code of the text's language (``und`` without letters).
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    sentiment_model_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sentiment_scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def text(self) -> str:
        """What sentiment reads: title and body as the trainer joins them."""
        return f"{self.title}. {self.body}"

    @property
    def sentiment(self) -> dict[str, Any] | None:
        """The stored sentiment as the API shows it (None while unscored)."""
        if self.sentiment_scored_at is None:
            return None
        return {
            "label": self.sentiment_label,
            "probability": self.sentiment_probability,
            "aspects": self.sentiment_aspects or {},
            "language": self.language,
            "model_version": self.sentiment_model_version,
            "scored_at": self.sentiment_scored_at,
        }


class ReviewVote(Base):
    """A user's "this review helped" (the primary key makes it one per user)."""

    __tablename__ = "shop_review_votes"

    review_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("shop_reviews.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
