"""Request and response bodies of the analyses API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from forgekit.pagination import Page


class Progress(BaseModel):
    """Files analysed so far out of the snapshot's total."""

    files_done: int
    files_total: int


class AnalysisRead(BaseModel):
    """An analysis: status, progress and, once it ended, its results."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    status: str
    progress: Progress
    attempts: int
    summary: dict[str, Any] | None = None
    quality_gate: dict[str, Any] | None = None
    new_findings: int = 0
    fixed_findings: int = 0
    error: str | None = None
    snapshot_digest: str | None = None
    requested_by: uuid.UUID | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    branch_id: uuid.UUID | None = None
    pull_request: str | None = None
    target_branch: str | None = None
    version: str | None = None
    #: The analysis new code was measured against (for a branch: its target's latest).
    baseline_analysis_id: uuid.UUID | None = None
    #: ``{period, findings: {new, fixed, inherited}, files_changed, metrics, ratings,
    #: quality_gate}``; on a branch other than the default, ``quality_gate`` is this one.
    new_code: dict[str, Any] | None = None


AnalysisPage = Page[AnalysisRead]
"""One page of a project's analyses, newest first."""


class FindingRead(BaseModel):
    """One finding of an analysis with its lifecycle status and the project's decision."""

    id: uuid.UUID
    analysis_id: uuid.UUID
    rule: str
    category: str
    severity: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    scope: str
    fingerprint: str
    status: str
    #: Against the new-code baseline (a branch: its target): new, inherited or fixed.
    new_code_status: str | None = None
    resolution: str = "open"
    resolution_reason: str | None = None


FindingPage = Page[FindingRead]
"""One page of findings, most severe first."""


class ResolutionIn(BaseModel):
    """A decision on a finding; ``open`` withdraws an earlier decision."""

    model_config = ConfigDict(extra="forbid")

    resolution: Literal["accepted", "false_positive", "open"]
    reason: str = Field(default="", max_length=2000)


class ProjectMetricsRead(BaseModel):
    """The latest project metrics, with A-E ratings (see :mod:`pyforge.analyses.metrics`)."""

    project_id: uuid.UUID
    analysis_id: uuid.UUID
    measured_at: datetime
    metrics: dict[str, float | int]
    ratings: dict[str, str]
    quality_gate: dict[str, Any] | None = None
    #: The ML worker's quality prediction for this analysis (score, level, confidence), once
    #: attached; see ``GET /api/v1/analyses/{id}/predictions`` for files and detections.
    predicted_quality: dict[str, Any] | None = None
    #: The same analysis on new code, beside the overall figures: ``{period, findings,
    #: files_changed, metrics, ratings, quality_gate}`` (None for analyses before branches).
    new_code: dict[str, Any] | None = None


class MetricPoint(BaseModel):
    """One value of a metric, measured by one analysis."""

    analysis_id: uuid.UUID
    measured_at: datetime
    value: float


class MetricHistory(BaseModel):
    """A metric across a project's succeeded analyses, oldest first."""

    project_id: uuid.UUID
    metric: str
    points: list[MetricPoint]


class AnalysisRequestIn(BaseModel):
    """Optional body of ``POST .../analyses``: a version label for the analysis."""

    model_config = ConfigDict(extra="forbid")

    version: str | None = Field(default=None, min_length=1, max_length=100)


class AnalyzeCodeIn(BaseModel):
    """A snippet for the synchronous analysis."""

    model_config = ConfigDict(extra="forbid")

    code: str
    filename: str = Field(default="snippet.py", min_length=1, max_length=255)


class AnalyzeCodeOut(BaseModel):
    """Metrics and findings of one snippet."""

    filename: str
    status: str
    metrics: dict[str, Any] | None
    functions: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    notes: list[dict[str, str]]


class AnalyzeProjectIn(BaseModel):
    """The seed's ``POST /api/v1/analyze/project`` body."""

    model_config = ConfigDict(extra="forbid")

    project_id: uuid.UUID
