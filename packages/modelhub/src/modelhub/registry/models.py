"""Tables of the model registry."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, SoftDeleteMixin, TimestampMixin, UUIDPrimaryKey
from forgekit.db.types import JSONType, UTCDateTime


class Visibility(StrEnum):
    """Who can find and open a model."""

    PUBLIC = "public"
    #: Reachable by its slug, never listed or searched.
    UNLISTED = "unlisted"
    PRIVATE = "private"


class ModelStatus(StrEnum):
    """Lifecycle: a draft is its publisher's; published is on the marketplace."""

    DRAFT = "draft"
    PUBLISHED = "published"
    DEPRECATED = "deprecated"


class MarketModel(UUIDPrimaryKey, TimestampMixin, SoftDeleteMixin, Base):
    """A model on the marketplace, addressed as ``owner/name``.

    ``metadata_`` holds free-form publisher metadata (JSONB on PostgreSQL); ``pricing`` holds
    the free tier and prices (validated by the schemas).
    """

    __tablename__ = "market_models"

    owner_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: The owner's username at creation: the namespace of the slug (usernames never change).
    namespace: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    task: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    framework: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    license: Mapped[str] = mapped_column(String(64), nullable=False)
    tags: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    pricing: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, nullable=False, default=dict
    )
    visibility: Mapped[str] = mapped_column(String(16), nullable=False, default="private")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    downloads: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: When the model first went on the marketplace (``GET /models/recent`` orders by it).
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        # One live model per slug; a deleted one frees its name only by an admin's purge.
        UniqueConstraint("namespace", "name", name="uq_market_models_slug"),
        Index("ix_market_models_listing", "status", "visibility", "created_at"),
        Index("ix_market_models_published_at", "published_at"),
    )

    @property
    def slug(self) -> str:
        """``owner/name``."""
        return f"{self.namespace}/{self.name}"
