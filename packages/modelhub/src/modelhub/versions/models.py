"""Tables of model versions and their aliases."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, UUIDPrimaryKey, utcnow
from forgekit.db.types import JSONType, UTCDateTime


class VersionStatus(StrEnum):
    """A draft can still be replaced; a published version never changes again."""

    DRAFT = "draft"
    PUBLISHED = "published"


class ModelVersion(UUIDPrimaryKey, Base):
    """One semantic version of a model: its file, format and input/output signature."""

    __tablename__ = "model_versions"

    model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("market_models.id", ondelete="CASCADE"), nullable=False, index=True
    )
    version: Mapped[str] = mapped_column(String(64), nullable=False)
    # The parts of the version, for ordering in SQL (prereleases sort before their release).
    major: Mapped[int] = mapped_column(Integer, nullable=False)
    minor: Mapped[int] = mapped_column(Integer, nullable=False)
    patch: Mapped[int] = mapped_column(Integer, nullable=False)
    prerelease: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    #: ``onnx`` (hosted inference), or what else the content was recognised as.
    format: Mapped[str] = mapped_column(String(32), nullable=False)
    #: Why the file cannot be served (None for a valid ONNX model).
    format_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    signature: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    changelog: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("model_id", "version", name="uq_model_versions_version"),)


class ModelAlias(UUIDPrimaryKey, Base):
    """A movable name (``latest``, ``stable``, custom) for one published version."""

    __tablename__ = "model_aliases"

    model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("market_models.id", ondelete="CASCADE"), nullable=False
    )
    alias: Mapped[str] = mapped_column(String(64), nullable=False)
    version_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("model_id", "alias", name="uq_model_aliases_alias"),)


class AliasMove(UUIDPrimaryKey, Base):
    """The history of an alias: every move, by whom and when (rollback walks it back)."""

    __tablename__ = "model_alias_moves"

    model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("market_models.id", ondelete="CASCADE"), nullable=False, index=True
    )
    alias: Mapped[str] = mapped_column(String(64), nullable=False)
    from_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    to_version: Mapped[str] = mapped_column(String(64), nullable=False)
    moved_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
