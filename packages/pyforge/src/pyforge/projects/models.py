"""The ``projects`` table (seed 001, "PostgreSQL Schema")."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, SoftDeleteMixin, TimestampMixin, UUIDPrimaryKey
from forgekit.db.types import JSONType

#: Longest project name; the schema and the request validation share it.
NAME_MAX = 255


class Project(UUIDPrimaryKey, TimestampMixin, SoftDeleteMixin, Base):
    """A code base under analysis, owned by a user and optionally shared with one team.

    ``settings`` holds a validated :class:`pyforge.projects.schemas.ProjectSettings` as JSON
    (validated by the service; the table knows no API schema). Full-text search over name and
    description is not modelled here: it is a GIN expression index on PostgreSQL and an FTS5
    table kept in sync by triggers on SQLite, both created by the ``pyforge_search`` migration.
    """

    __tablename__ = "projects"

    name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # SET NULL: deleting a team (hard) must not delete its projects; they fall back to the owner.
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("teams.id", ondelete="SET NULL"), nullable=True, index=True
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    is_public: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    __table_args__ = (
        # The list endpoint sorts by these; the id breaks ties for keyset pagination.
        Index("ix_projects_created_at_id", "created_at", "id"),
        Index("ix_projects_updated_at_id", "updated_at", "id"),
        Index("ix_projects_name_id", "name", "id"),
    )
