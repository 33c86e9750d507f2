"""The model registry's table: every promoted classifier version, and which one is live."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import JSONType, UTCDateTime


class ModelVersion(UUIDPrimaryKey, Base):
    """A promoted version: its ONNX file in the kit's storage (by sha256) and its card.

    The live version is the most recently promoted one not retired; with none, every process
    serves the shipped default. Shared by the API and worker processes through the database,
    so a promotion reaches pods that share no disk.
    """

    __tablename__ = "aqua_model_versions"
    __table_args__ = (Index("ix_aqua_model_versions_live", "retired_at", "promoted_at"),)

    version: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    #: The storage key of ``model.onnx`` (its sha256, as the card says).
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    card: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    val_accuracy: Mapped[float] = mapped_column(Float, nullable=False)
    promoted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: Set by a rollback; a later promotion of the same version clears it.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

