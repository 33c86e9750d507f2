"""PyForge's cache lifetimes and key layout (seed 001, "Redis Cache Strategy").

Key builders keep the key structure in one place so the code that writes an entry and the code
that invalidates it cannot drift apart. Keys are relative to the cache's namespace.
"""

from __future__ import annotations

from typing import Final

from forgekit.cache.keys import Id
from forgekit.cache.keys import key_part as _part

SESSION_TTL: Final = 3600
PROJECT_TTL: Final = 300
ANALYSIS_TTL: Final = 1800
METRICS_TTL: Final = 600
ML_PREDICTION_TTL: Final = 900

CACHE_TTLS: Final[dict[str, int]] = {
    "session": SESSION_TTL,
    "project": PROJECT_TTL,
    "analysis": ANALYSIS_TTL,
    "metrics": METRICS_TTL,
    "ml_prediction": ML_PREDICTION_TTL,
}

def session_key(user_id: Id) -> str:
    """``user:session:{user_id}``: a user's session data."""
    return f"user:session:{_part(user_id)}"


def project_key(project_id: Id) -> str:
    """``project:{project_id}``: project metadata."""
    return f"project:{_part(project_id)}"


def analysis_key(file_id: Id) -> str:
    """``analysis:{file_id}``: analysis results of one file."""
    return f"analysis:{_part(file_id)}"


def metrics_key(project_id: Id) -> str:
    """``metrics:{project_id}``: a project's aggregated metrics."""
    return f"metrics:{_part(project_id)}"


def ml_prediction_key(file_id: Id, model: str) -> str:
    """``ml:prediction:{file_id}:{model}``: one model's prediction for one file."""
    return f"ml:prediction:{_part(file_id)}:{_part(model)}"


def ml_prediction_prefix(file_id: Id) -> str:
    """Prefix of every model's prediction for ``file_id``, for ``Cache.delete_prefix``."""
    return f"ml:prediction:{_part(file_id)}:"
