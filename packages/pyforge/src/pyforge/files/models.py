"""The ``project_files`` table: one row per path of a project's tree (seed 001 schema).

Contents are not stored in the row (the seed's ``content TEXT``) but in object storage under
their SHA-256, so identical files across projects and versions are stored once.
"""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, SoftDeleteMixin, TimestampMixin, UUIDPrimaryKey

#: Longest stored path (normalised POSIX, relative to the project root).
PATH_MAX = 1024


class ProjectFile(UUIDPrimaryKey, TimestampMixin, SoftDeleteMixin, Base):
    """One file of a project's current tree (live rows) or of its history (soft-deleted rows).

    ``sha256`` is the object-storage key of the content. ``version`` starts at 1 and grows by
    one each time the content at ``path`` changes; re-uploading identical content keeps it.
    """

    __tablename__ = "project_files"

    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    path: Mapped[str] = mapped_column(String(PATH_MAX), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    mime_type: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __table_args__ = (
        # One live row per path; deleted rows are history and may repeat a path.
        Index(
            "uq_project_files_live_path",
            "project_id",
            "path",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        Index("ix_project_files_project_id_path", "project_id", "path"),
        # Garbage collection of storage objects asks "is this key still referenced?".
        Index("ix_project_files_sha256", "sha256"),
    )
