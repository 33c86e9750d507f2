"""Observations (one image of a tank and its prediction), labels, and batch jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey, utcnow
from forgekit.db.types import JSONType, UTCDateTime


class BatchJob(UUIDPrimaryKey, TimestampMixin, Base):
    """A large batch classified on the worker role; its counters are the progress."""

    __tablename__ = "aqua_jobs"

    farm_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("aqua_farms.id", ondelete="CASCADE"), nullable=False, index=True
    )
    tank_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("aqua_tanks.id", ondelete="CASCADE"), nullable=False
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    #: The validated .zip in the kit's storage.
    archive_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    total: Mapped[int] = mapped_column(Integer, nullable=False)
    processed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Observation(UUIDPrimaryKey, Base):
    """One image of a tank: where it is stored and what the model saw in it."""

    __tablename__ = "aqua_observations"
    __table_args__ = (
        Index("ix_aqua_observations_tank_time", "tank_id", "observed_at"),
        Index("ix_aqua_observations_farm_species", "farm_id", "species"),
    )

    farm_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("aqua_farms.id", ondelete="CASCADE"), nullable=False
    )
    tank_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("aqua_tanks.id", ondelete="CASCADE"), nullable=False
    )
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("aqua_jobs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: The cleaned original (orientation applied, metadata stripped), by content.
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    thumbnail_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_type: Mapped[str] = mapped_column(String(32), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # The prediction.
    species: Mapped[str] = mapped_column(String(64), nullable=False)
    confidence: Mapped[float] = mapped_column(Float, nullable=False)
    unsure: Mapped[bool] = mapped_column(Boolean, nullable=False)
    top_k: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False)
    model_version: Mapped[str] = mapped_column(String(64), nullable=False)
    # The label an operator gave (confirmed or corrected): labelled data for the next training.
    label: Mapped[str | None] = mapped_column(String(64), nullable=True)
    labelled_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    labelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Correction(UUIDPrimaryKey, Base):
    """Each confirmation or correction, kept (who and when) even when a later one wins."""

    __tablename__ = "aqua_corrections"

    observation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("aqua_observations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    action: Mapped[str] = mapped_column(String(8), nullable=False)
    predicted: Mapped[str] = mapped_column(String(64), nullable=False)
    species: Mapped[str] = mapped_column(String(64), nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
