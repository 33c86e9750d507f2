"""The event types notifications know about (the analyses service's contract)."""

from __future__ import annotations

from typing import Final

PROJECT_CREATED: Final = "project.created"
PROJECT_DELETED: Final = "project.deleted"
ANALYSIS_REQUESTED: Final = "analysis.requested"
ANALYSIS_STARTED: Final = "analysis.started"
ANALYSIS_PROGRESS: Final = "analysis.progress"
ANALYSIS_COMPLETED: Final = "analysis.completed"
ANALYSIS_FAILED: Final = "analysis.failed"
QUALITY_GATE_CHANGED: Final = "quality_gate.changed"
FINDING_NEW_CRITICAL: Final = "finding.new_critical"

#: Events about a project (payload has ``project_id``): what webhooks and WebSockets carry.
PROJECT_EVENT_TYPES: Final[tuple[str, ...]] = (
    PROJECT_CREATED,
    ANALYSIS_REQUESTED,
    ANALYSIS_STARTED,
    ANALYSIS_PROGRESS,
    ANALYSIS_COMPLETED,
    ANALYSIS_FAILED,
    QUALITY_GATE_CHANGED,
    FINDING_NEW_CRITICAL,
)

#: Events a person can be notified of by email or Slack (progress would only be noise).
NOTIFIABLE_EVENT_TYPES: Final[tuple[str, ...]] = (
    PROJECT_CREATED,
    ANALYSIS_COMPLETED,
    ANALYSIS_FAILED,
    QUALITY_GATE_CHANGED,
    FINDING_NEW_CRITICAL,
)
