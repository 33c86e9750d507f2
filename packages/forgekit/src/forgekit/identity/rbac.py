"""Roles and permissions (seed 001, "Authorization Model"), shared by users, teams and API keys.

One vocabulary serves three places:

* a user's **global role** caps what the account may do anywhere (a ``viewer`` account stays
  read-only even in a team it owns; ``admin`` may do everything, everywhere);
* a **team role** says what a member may do with that team's resources;
* an **API key's scopes** are permission strings that narrow what its owner may do.

An action on a team resource needs the permission in both the principal's scopes and the
caller's team role (see :func:`role_has`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class Permission(StrEnum):
    """A permission string, as it appears in API-key scopes and ``require_scopes``."""

    PROJECT_READ = "project:read"
    PROJECT_WRITE = "project:write"
    PROJECT_DELETE = "project:delete"
    ANALYSIS_RUN = "analysis:run"
    ML_PREDICT = "ml:predict"
    TEAM_READ = "team:read"
    TEAM_WRITE = "team:write"
    TEAM_MANAGE_MEMBERS = "team:manage_members"
    TEAM_DELETE = "team:delete"
    #: Implies every other permission. It is also the scope an API key needs to manage API
    #: keys (create, list, rotate, delete): a leaked key must not be able to mint itself
    #: successors that outlive its own revocation, so only an admin-grade key may.
    ADMIN_ALL = "admin:*"


class Role(StrEnum):
    """A role, global (``users.role``) or within a team (``team_members.role``)."""

    VIEWER = "viewer"
    DEVELOPER = "developer"
    OWNER = "owner"
    ADMIN = "admin"


_VIEWER = frozenset({Permission.PROJECT_READ, Permission.TEAM_READ})
_DEVELOPER = _VIEWER | {
    Permission.PROJECT_WRITE,
    Permission.ANALYSIS_RUN,
    Permission.ML_PREDICT,
    # A developer may create teams (becoming their owner) and edit a team's details.
    Permission.TEAM_WRITE,
}
_OWNER = _DEVELOPER | {
    Permission.PROJECT_DELETE,
    Permission.TEAM_MANAGE_MEMBERS,
    Permission.TEAM_DELETE,
}

#: What each role grants. ``admin:*`` stands for every permission (see :func:`role_has`).
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.DEVELOPER: frozenset(_DEVELOPER),
    Role.OWNER: frozenset(_OWNER),
    Role.ADMIN: frozenset({Permission.ADMIN_ALL}),
}

#: Roles a team member can hold; ``admin`` is a global role only.
TEAM_ROLES: frozenset[Role] = frozenset({Role.VIEWER, Role.DEVELOPER, Role.OWNER})

#: The global role of a self-registered account: a full user who can own teams and projects.
#: ``viewer``/``developer`` accounts are restricted accounts (read-only users, CI bots)
#: that an administrator sets up.
DEFAULT_USER_ROLE = Role.OWNER


def role_has(role: Role | str, permission: Permission | str) -> bool:
    """True when ``role`` grants ``permission`` (``admin`` grants everything)."""
    granted = ROLE_PERMISSIONS[Role(role)]
    return Permission.ADMIN_ALL in granted or Permission(permission) in granted


def scopes_allow(scopes: Iterable[str], permission: Permission | str) -> bool:
    """True when a scope set contains ``permission`` or ``admin:*``."""
    present = set(scopes)
    return Permission.ADMIN_ALL.value in present or str(permission) in present


def permissions_of(role: Role | str) -> frozenset[str]:
    """The permission strings ``role`` grants (``{"admin:*"}`` for admin)."""
    return frozenset(p.value for p in ROLE_PERMISSIONS[Role(role)])
