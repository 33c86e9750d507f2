"""Tables of the ML service: the model registry and the predictions attached to analyses."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey
from forgekit.db.types import JSONType


class MlModel(UUIDPrimaryKey, TimestampMixin, Base):
    """One version of a model: its file in object storage (by sha256), metrics and card.

    Exactly one version per name is the default (the one served); making another the default
    is how a new version goes live and how it is rolled back.
    """

    __tablename__ = "ml_models"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    version: Mapped[str] = mapped_column(String(32), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    card: Mapped[str] = mapped_column(Text, nullable=False, default="")
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    __table_args__ = (UniqueConstraint("name", "version", name="uq_ml_models_name_version"),)


class AnalysisPrediction(UUIDPrimaryKey, TimestampMixin, Base):
    """What the ML consumer predicted for one analysis (one row per analysis: idempotent)."""

    __tablename__ = "analysis_predictions"

    analysis_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("analyses.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True
    )
    detector_version: Mapped[str] = mapped_column(String(64), nullable=False)
    quality_version: Mapped[str] = mapped_column(String(64), nullable=False)
    #: ``{"project": {...}, "files": [{"path", "score", "level", ...}]}``.
    quality: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    #: Detections at the detector's default threshold, most probable first.
    detections: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False)
    files_analysed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: Why some files were left out (syntax errors, not UTF-8), or None.
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
