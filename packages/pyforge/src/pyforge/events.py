"""PyForge's event types: one catalogue shared by the domains that emit and consume them.

Payload contracts are documented where each event is emitted (``analyses/service.py``,
``projects/service.py``); every payload of a project event carries ``project_id``.
"""

from __future__ import annotations

from typing import Final

PROJECT_CREATED: Final = "project.created"
PROJECT_UPDATED: Final = "project.updated"
PROJECT_DELETED: Final = "project.deleted"
ANALYSIS_REQUESTED: Final = "analysis.requested"
ANALYSIS_STARTED: Final = "analysis.started"
ANALYSIS_PROGRESS: Final = "analysis.progress"
ANALYSIS_COMPLETED: Final = "analysis.completed"
ANALYSIS_FAILED: Final = "analysis.failed"
QUALITY_GATE_CHANGED: Final = "quality_gate.changed"
FINDING_NEW_CRITICAL: Final = "finding.new_critical"
