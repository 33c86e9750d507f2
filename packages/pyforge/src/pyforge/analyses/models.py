"""Tables of the analyses domain: analyses, their findings, finding decisions, project metrics."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from forgekit.db.base import Base, TimestampMixin, UUIDPrimaryKey
from forgekit.db.types import JSONType, UTCDateTime


class AnalysisStatus(StrEnum):
    """Where an analysis is: ``queued -> running -> succeeded | failed``."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        """True once the analysis has ended (it never changes again)."""
        return self in (AnalysisStatus.SUCCEEDED, AnalysisStatus.FAILED)


class FindingStatus(StrEnum):
    """A finding's place in the issue lifecycle, relative to the previous analysis."""

    NEW = "new"
    UNCHANGED = "unchanged"
    #: Present in the previous succeeded analysis, gone from this one (listed here as history).
    FIXED = "fixed"


class NewCodeStatus(StrEnum):
    """A finding relative to the new-code baseline (for a branch: its target branch)."""

    #: Not in the baseline: introduced by the new code (on a branch: new on this branch).
    NEW = "new"
    #: Already in the baseline (on a branch: inherited from the target).
    INHERITED = "inherited"
    #: In the baseline, gone here (on a branch: fixed on this branch).
    FIXED = "fixed"


class Resolution(StrEnum):
    """A person's decision on a finding, kept per (project, fingerprint)."""

    OPEN = "open"
    ACCEPTED = "accepted"
    FALSE_POSITIVE = "false_positive"


class Analysis(UUIDPrimaryKey, TimestampMixin, Base):
    """One run of the engine over one snapshot of a project."""

    __tablename__ = "analyses"

    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    # SET NULL: the history of a project outlives the account that asked for a run.
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=AnalysisStatus.QUEUED)
    #: Runs started (a worker killed mid-run counts too): bounds retries of a poisonous run.
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    snapshot_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    files_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    files_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    gate_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    gate: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    new_findings: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    fixed_findings: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Nullable only for rows older than branches: the migration gives every one its project's
    # default branch, and the service always sets it.
    branch_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("branches.id", ondelete="CASCADE"), nullable=True
    )
    #: The pull request this analysis decorates (its number or id, as the caller names it).
    pull_request: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The branch the analysed branch merges into, as requested.
    target_branch: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: A version label (e.g. "1.4.0"), the anchor of a "since version" new-code period.
    version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: The analysis new code was measured against (SET NULL: retention may purge it).
    baseline_analysis_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("analyses.id", ondelete="SET NULL"), nullable=True
    )
    #: New-code results: the period, counts, metrics, ratings and the new-code gate.
    new_code: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    #: The analysed tree (path -> sha256): set at request time for an uploaded branch tree,
    #: and at the end for every analysis (new code compares trees file by file).
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)

    __table_args__ = (
        # Listing a project's analyses newest first, and finding the previous succeeded one.
        Index("ix_analyses_project_id_created_at", "project_id", "created_at"),
        Index("ix_analyses_status", "status"),
        Index("ix_analyses_branch_id_created_at", "branch_id", "created_at"),
    )


class AnalysisFinding(UUIDPrimaryKey, Base):
    """One finding of one analysis (``fixed`` rows copy the previous analysis' finding)."""

    __tablename__ = "analysis_findings"

    analysis_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("analyses.id", ondelete="CASCADE"), nullable=False
    )
    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    rule: Mapped[str] = mapped_column(String(64), nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    #: Severity rank (info 0 ... blocker 4), so that "most severe first" is an index scan.
    severity_rank: Mapped[int] = mapped_column(Integer, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    path: Mapped[str] = mapped_column(String(1024), nullable=False)
    line: Mapped[int] = mapped_column(Integer, nullable=False)
    column: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    end_line: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    end_column: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    scope: Mapped[str] = mapped_column(String(512), nullable=False, default="")
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    #: Relative to the new-code baseline (for a branch: its target): ``new``, ``inherited``
    #: or ``fixed``; null when there was no baseline to compare with.
    new_code_status: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __table_args__ = (
        Index("ix_analysis_findings_analysis_id_severity", "analysis_id", "severity_rank"),
        Index("ix_analysis_findings_analysis_id_fingerprint", "analysis_id", "fingerprint"),
    )


class FindingDecision(UUIDPrimaryKey, TimestampMixin, Base):
    """A developer's decision on a finding; applies to every analysis of the project."""

    __tablename__ = "finding_decisions"

    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    resolution: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (
        UniqueConstraint("project_id", "fingerprint", name="uq_finding_decisions_project_fp"),
    )


class ProjectMetrics(UUIDPrimaryKey, Base):
    """The project-level metrics of one succeeded analysis: one flat row, one point in time."""

    __tablename__ = "project_metrics"

    analysis_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("analyses.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    files: Mapped[int] = mapped_column(Integer, nullable=False)
    functions: Mapped[int] = mapped_column(Integer, nullable=False)
    classes: Mapped[int] = mapped_column(Integer, nullable=False)
    loc: Mapped[int] = mapped_column(Integer, nullable=False)
    sloc: Mapped[int] = mapped_column(Integer, nullable=False)
    findings_total: Mapped[int] = mapped_column(Integer, nullable=False)
    findings_blocker: Mapped[int] = mapped_column(Integer, nullable=False)
    findings_critical: Mapped[int] = mapped_column(Integer, nullable=False)
    findings_major: Mapped[int] = mapped_column(Integer, nullable=False)
    findings_minor: Mapped[int] = mapped_column(Integer, nullable=False)
    findings_info: Mapped[int] = mapped_column(Integer, nullable=False)
    bugs: Mapped[int] = mapped_column(Integer, nullable=False)
    vulnerabilities: Mapped[int] = mapped_column(Integer, nullable=False)
    code_smells: Mapped[int] = mapped_column(Integer, nullable=False)
    cyclomatic_avg: Mapped[float] = mapped_column(Float, nullable=False)
    cyclomatic_max: Mapped[int] = mapped_column(Integer, nullable=False)
    cognitive_avg: Mapped[float] = mapped_column(Float, nullable=False)
    cognitive_max: Mapped[int] = mapped_column(Integer, nullable=False)
    maintainability_index: Mapped[float] = mapped_column(Float, nullable=False)
    maintainability_index_min: Mapped[float] = mapped_column(Float, nullable=False)
    type_coverage: Mapped[float] = mapped_column(Float, nullable=False)
    technical_debt_min: Mapped[int] = mapped_column(Integer, nullable=False)
    debt_ratio: Mapped[float] = mapped_column(Float, nullable=False)
    reliability_rating: Mapped[str] = mapped_column(String(1), nullable=False)
    security_rating: Mapped[str] = mapped_column(String(1), nullable=False)
    maintainability_rating: Mapped[str] = mapped_column(String(1), nullable=False)

    __table_args__ = (
        Index("ix_project_metrics_project_id_measured_at", "project_id", "measured_at"),
    )
