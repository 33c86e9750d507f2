"""PyForge's event types and their payloads: one catalogue for the domains that emit and consume.

Every event about a project carries ``project_id`` (webhooks and WebSockets route on it).
Payload models ignore fields they do not know, so a newer producer's event still parses in an
older consumer; a field's meaning never changes within a ``schema_version``.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from pydantic import BaseModel

from forgekit.events.types import EventType


class ProjectScoped(BaseModel):
    """Base of every project event."""

    project_id: uuid.UUID


class ProjectEvent(ProjectScoped):
    """``project.created`` / ``project.deleted``: the project as it was."""

    name: str
    owner_id: uuid.UUID
    team_id: uuid.UUID | None
    is_public: bool


class ProjectUpdated(ProjectEvent):
    """``project.updated``: the project after the change and the fields that changed."""

    changed: list[str]


class FilesUploaded(ProjectScoped):
    """``project.files_uploaded``: what one upload did to the tree."""

    replace: bool
    added: int
    updated: int
    unchanged: int
    deleted: int


class FileDeleted(ProjectScoped):
    """``project.file_deleted``."""

    file_id: uuid.UUID
    path: str


class AnalysisEvent(ProjectScoped):
    """Base of every analysis event (``analysis.started`` carries only this)."""

    analysis_id: uuid.UUID


class AnalysisRequested(AnalysisEvent):
    """``analysis.requested``: queued by a user (``requested_by``) or re-queued by the system.

    ``branch`` and ``pull_request`` name what is analysed (None: the default branch, or an
    event from before branches).
    """

    requested_by: uuid.UUID | None = None
    branch: str | None = None
    pull_request: str | None = None


class AnalysisProgress(AnalysisEvent):
    """``analysis.progress``: files analysed so far."""

    files_done: int
    files_total: int


class FindingBrief(BaseModel):
    """A finding as notifications show it."""

    rule: str
    severity: str
    message: str
    path: str
    line: int


class AnalysisSummary(BaseModel):
    """Counts of a finished analysis (findings by severity)."""

    files: int
    functions: int
    findings: dict[str, int]


class AnalysisCompleted(AnalysisEvent):
    """``analysis.completed``: the outcome, the gate and the most severe open findings."""

    status: str
    duration_s: float | None
    summary: AnalysisSummary
    quality_gate: dict[str, Any]
    top_findings: list[FindingBrief]
    new_findings: int
    fixed_findings: int
    #: The analysed branch, its target and pull request (None on events from before branches).
    branch: str | None = None
    target_branch: str | None = None
    pull_request: str | None = None
    #: New-code results: ``{baseline_analysis_id, findings: {new, fixed, inherited},
    #: ratings, quality_gate}`` (see :mod:`pyforge.branches.newcode`).
    new_code: dict[str, Any] | None = None


class AnalysisFailed(AnalysisEvent):
    """``analysis.failed`` with the reason shown to users."""

    reason: str | None


class QualityGateChanged(AnalysisEvent):
    """``quality_gate.changed``: from ``previous`` (None: the project's first gate)."""

    previous: str | None
    current: str


class NewCriticalFindings(AnalysisEvent):
    """``finding.new_critical``: critical or blocker findings new in this analysis."""

    findings: list[FindingBrief]


class MlModelUpdated(BaseModel):
    """``ml.model.updated``: another version of a model is served (a release or a rollback)."""

    name: str
    version: str
    previous: str | None
    changed_by: uuid.UUID


class BranchEvent(ProjectScoped):
    """``branch.created`` (by its first analysis) / ``branch.deleted`` (by a user or by
    retention): the branch as it was."""

    branch_id: uuid.UUID
    name: str
    is_default: bool
    target: str | None = None
    #: ``user`` or ``retention`` for ``branch.deleted``; None for ``branch.created``.
    reason: str | None = None


PROJECT_CREATED: Final = EventType("project.created", ProjectEvent)
PROJECT_UPDATED: Final = EventType("project.updated", ProjectUpdated)
PROJECT_DELETED: Final = EventType("project.deleted", ProjectEvent)
FILES_UPLOADED: Final = EventType("project.files_uploaded", FilesUploaded)
FILE_DELETED: Final = EventType("project.file_deleted", FileDeleted)
ANALYSIS_REQUESTED: Final = EventType("analysis.requested", AnalysisRequested)
ANALYSIS_STARTED: Final = EventType("analysis.started", AnalysisEvent)
ANALYSIS_PROGRESS: Final = EventType("analysis.progress", AnalysisProgress)
ANALYSIS_COMPLETED: Final = EventType("analysis.completed", AnalysisCompleted)
ANALYSIS_FAILED: Final = EventType("analysis.failed", AnalysisFailed)
QUALITY_GATE_CHANGED: Final = EventType("quality_gate.changed", QualityGateChanged)
FINDING_NEW_CRITICAL: Final = EventType("finding.new_critical", NewCriticalFindings)
ML_MODEL_UPDATED: Final = EventType("ml.model.updated", MlModelUpdated)
BRANCH_CREATED: Final = EventType("branch.created", BranchEvent)
BRANCH_DELETED: Final = EventType("branch.deleted", BranchEvent)

#: Every event type PyForge emits.
PYFORGE_EVENT_TYPES: Final = (
    PROJECT_CREATED,
    PROJECT_UPDATED,
    PROJECT_DELETED,
    FILES_UPLOADED,
    FILE_DELETED,
    ANALYSIS_REQUESTED,
    ANALYSIS_STARTED,
    ANALYSIS_PROGRESS,
    ANALYSIS_COMPLETED,
    ANALYSIS_FAILED,
    QUALITY_GATE_CHANGED,
    FINDING_NEW_CRITICAL,
    ML_MODEL_UPDATED,
    BRANCH_CREATED,
    BRANCH_DELETED,
)
