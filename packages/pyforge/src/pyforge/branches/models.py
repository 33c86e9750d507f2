"""Tables of the branches domain: a project's branches and its new-code period."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey
from forgekit.db.types import UTCDateTime

#: Longest branch name kept (git allows more; nobody types more).
BRANCH_NAME_MAX = 255


class Branch(UUIDPrimaryKey, TimestampMixin, Base):
    """One branch of a project: the default one, or one created by its first analysis."""

    __tablename__ = "branches"

    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(BRANCH_NAME_MAX), nullable=False)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: The branch this one merges into (its findings are compared to that branch's).
    target: Mapped[str | None] = mapped_column(String(BRANCH_NAME_MAX), nullable=True)
    #: When its latest analysis was requested: retention purges branches idle for too long.
    last_analysis_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_branches_project_name"),)


class PeriodKind(StrEnum):
    """What "new code" is measured against."""

    #: The previous succeeded analysis of the same branch (the default).
    PREVIOUS_ANALYSIS = "previous_analysis"
    #: The first succeeded analysis that carried a version label (``value``).
    VERSION = "version"
    #: The newest analysis at least ``value`` days old.
    DAYS = "days"
    #: The latest succeeded analysis of another branch (``value``).
    REFERENCE_BRANCH = "reference_branch"


class NewCodePeriod(UUIDPrimaryKey, TimestampMixin, Base):
    """A project's new-code period (absent: since the previous analysis)."""

    __tablename__ = "new_code_periods"

    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    value: Mapped[str | None] = mapped_column(String(BRANCH_NAME_MAX), nullable=True)
