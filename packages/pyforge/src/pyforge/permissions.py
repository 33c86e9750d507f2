"""PyForge's permissions (seed 001, "Authorization Model") and what the kit's roles grant of them.

Registered with the kit at import, so every module that names a permission imports it from
here and the kit's ``require_scopes`` knows it when a route is declared.
"""

from __future__ import annotations

from enum import StrEnum

from forgekit.identity.rbac import Role, register_permissions


class Permission(StrEnum):
    """A PyForge permission string (API-key scope)."""

    PROJECT_READ = "project:read"
    PROJECT_WRITE = "project:write"
    PROJECT_DELETE = "project:delete"
    ANALYSIS_RUN = "analysis:run"
    ML_PREDICT = "ml:predict"


_VIEWER = [Permission.PROJECT_READ]
_DEVELOPER = [*_VIEWER, Permission.PROJECT_WRITE, Permission.ANALYSIS_RUN, Permission.ML_PREDICT]
_OWNER = [*_DEVELOPER, Permission.PROJECT_DELETE]

register_permissions(
    list(Permission),
    {Role.VIEWER: _VIEWER, Role.DEVELOPER: _DEVELOPER, Role.OWNER: _OWNER},
)
