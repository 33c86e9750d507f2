"""Modelhub's roles and permissions (seed 003): consumer (default), publisher, admin.

Registered with the kit at import; the kit's ``admin`` role grants everything.
"""

from __future__ import annotations

from enum import StrEnum

from forgekit.identity.rbac import KitPermission, register_permissions


class Permission(StrEnum):
    """A Modelhub permission string (API-key scope)."""

    MODEL_READ = "model:read"
    MODEL_WRITE = "model:write"
    MODEL_PUBLISH = "model:publish"
    MODEL_DELETE = "model:delete"


class Role(StrEnum):
    """Modelhub's own global roles (the kit's ``admin`` is the third)."""

    CONSUMER = "consumer"
    PUBLISHER = "publisher"


_CONSUMER = [Permission.MODEL_READ, KitPermission.TEAM_READ, KitPermission.TEAM_WRITE]
_PUBLISHER = [
    *_CONSUMER,
    Permission.MODEL_WRITE,
    Permission.MODEL_PUBLISH,
    Permission.MODEL_DELETE,
    KitPermission.TEAM_MANAGE_MEMBERS,
    KitPermission.TEAM_DELETE,
]

register_permissions(list(Permission), {Role.CONSUMER: _CONSUMER, Role.PUBLISHER: _PUBLISHER})
