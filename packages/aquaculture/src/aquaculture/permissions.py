"""Aquaculture's roles and permissions: a farm is a kit team; its members are viewers,
operators or admins (the kit's team ``owner``).

Registered with the kit at import. A team action needs the permission both in the caller's
scopes (global role or API key) and in their role in the farm's team.
"""

from __future__ import annotations

from enum import StrEnum

from forgekit.identity.rbac import KitPermission, Role, register_permissions


class Permission(StrEnum):
    """An Aquaculture permission string (API-key scope)."""

    FARM_READ = "farm:read"
    #: Sites and tanks: create, rename, delete.
    FARM_MANAGE = "farm:manage"
    #: Upload observations, confirm or correct predictions.
    OBSERVATION_WRITE = "observation:write"


class FarmRole(StrEnum):
    """A member's role in a farm, as the API names it."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


#: Farm roles as the kit's team roles store them (a farm admin is the team's owner, so the
#: kit's rule "a team keeps one owner" keeps every farm administrable).
TEAM_ROLE_OF = {
    FarmRole.VIEWER: Role.VIEWER.value,
    FarmRole.OPERATOR: "operator",
    FarmRole.ADMIN: Role.OWNER.value,
}
FARM_ROLE_OF = {team: farm for farm, team in TEAM_ROLE_OF.items()}

_VIEWER = [Permission.FARM_READ, KitPermission.TEAM_READ]
_OPERATOR = [*_VIEWER, Permission.OBSERVATION_WRITE]
_ADMIN = [*_OPERATOR, Permission.FARM_MANAGE]

register_permissions(
    list(Permission),
    {
        Role.VIEWER: _VIEWER,
        "operator": _OPERATOR,
        Role.DEVELOPER: _OPERATOR,
        Role.OWNER: _ADMIN,
    },
    team_roles=["operator"],
)
