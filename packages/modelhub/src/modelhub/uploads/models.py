"""Tables of resumable uploads: an upload and the chunks received so far."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey
from forgekit.db.types import UTCDateTime


class UploadStatus(StrEnum):
    """An upload is open until completed, aborted or expired."""

    OPEN = "open"
    COMPLETED = "completed"
    ABORTED = "aborted"
    EXPIRED = "expired"


class Upload(UUIDPrimaryKey, TimestampMixin, Base):
    """A file being uploaded in chunks for one model, with its declared size and SHA-256."""

    __tablename__ = "model_uploads"

    owner_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    model_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("market_models.id", ondelete="CASCADE"), nullable=False, index=True
    )
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    chunk_size: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open", index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def chunk_count(self) -> int:
        """How many chunks make the file (the last one may be shorter)."""
        return max(1, -(-self.size // self.chunk_size))


class UploadChunk(UUIDPrimaryKey, Base):
    """One received chunk: its position, size and SHA-256 (its storage key)."""

    __tablename__ = "model_upload_chunks"

    upload_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("model_uploads.id", ondelete="CASCADE"), nullable=False
    )
    index: Mapped[int] = mapped_column(Integer, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)

    __table_args__ = (UniqueConstraint("upload_id", "index", name="uq_upload_chunks_position"),)
