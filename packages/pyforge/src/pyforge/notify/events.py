"""The event types notifications handle, grouped by what they can be delivered to."""

from __future__ import annotations

from typing import Final

from pyforge.events import (
    ANALYSIS_COMPLETED,
    ANALYSIS_FAILED,
    ANALYSIS_PROGRESS,
    ANALYSIS_REQUESTED,
    ANALYSIS_STARTED,
    BRANCH_CREATED,
    BRANCH_DELETED,
    FINDING_NEW_CRITICAL,
    PROJECT_CREATED,
    PROJECT_DELETED,
    QUALITY_GATE_CHANGED,
)

__all__ = [
    "ANALYSIS_COMPLETED",
    "ANALYSIS_FAILED",
    "ANALYSIS_PROGRESS",
    "ANALYSIS_REQUESTED",
    "ANALYSIS_STARTED",
    "BRANCH_CREATED",
    "BRANCH_DELETED",
    "FINDING_NEW_CRITICAL",
    "NOTIFIABLE_EVENT_TYPES",
    "PROJECT_CREATED",
    "PROJECT_DELETED",
    "PROJECT_EVENT_TYPES",
    "QUALITY_GATE_CHANGED",
]

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
    BRANCH_CREATED,
    BRANCH_DELETED,
)

#: Events a person can be notified of by email or Slack (progress would only be noise).
NOTIFIABLE_EVENT_TYPES: Final[tuple[str, ...]] = (
    PROJECT_CREATED,
    ANALYSIS_COMPLETED,
    ANALYSIS_FAILED,
    QUALITY_GATE_CHANGED,
    FINDING_NEW_CRITICAL,
)
