"""Roles and permissions, shared by users, teams and API keys; open to each product.

One vocabulary serves three places:

* a user's **global role** caps what the account may do anywhere (a ``viewer`` account stays
  read-only even in a team it owns; ``admin`` may do everything, everywhere);
* a **team role** says what a member may do with that team's resources;
* an **API key's scopes** are permission strings that narrow what its owner may do.

The kit declares only its own permissions (teams, ``admin:*``) and its built-in roles. Each
product registers its permissions and grants them to roles (and may add roles of its own,
global or team roles) with :func:`register_permissions`, at import of the module that declares
them, before any route names them. An action on a team resource needs the permission in both
the principal's scopes and the caller's team role (see :func:`role_has`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator

#: A permission string as it appears in API-key scopes and ``require_scopes`` ("project:read").
Permission = str


class KitPermission(StrEnum):
    """The kit's own permissions."""

    TEAM_READ = "team:read"
    TEAM_WRITE = "team:write"
    TEAM_MANAGE_MEMBERS = "team:manage_members"
    TEAM_DELETE = "team:delete"
    #: Implies every other permission. It is also the scope an API key needs to manage API
    #: keys (create, list, rotate, delete): a leaked key must not be able to mint itself
    #: successors that outlive its own revocation, so only an admin-grade key may.
    ADMIN_ALL = "admin:*"


class Role(StrEnum):
    """The kit's built-in roles, global (``users.role``) or in a team (``team_members.role``)."""

    VIEWER = "viewer"
    DEVELOPER = "developer"
    OWNER = "owner"
    ADMIN = "admin"


#: The global role of a self-registered account: a full user who can own teams and resources.
#: ``viewer``/``developer`` accounts are restricted accounts (read-only users, CI bots)
#: that an administrator sets up.
DEFAULT_USER_ROLE = Role.OWNER

_lock = threading.Lock()
_permissions: set[str] = {p.value for p in KitPermission}
_grants: dict[str, set[str]] = {
    Role.VIEWER: {KitPermission.TEAM_READ},
    # A developer may create teams (becoming their owner) and edit a team's details.
    Role.DEVELOPER: {KitPermission.TEAM_READ, KitPermission.TEAM_WRITE},
    Role.OWNER: {
        KitPermission.TEAM_READ,
        KitPermission.TEAM_WRITE,
        KitPermission.TEAM_MANAGE_MEMBERS,
        KitPermission.TEAM_DELETE,
    },
    Role.ADMIN: {KitPermission.ADMIN_ALL},
}
#: Roles a team member can hold; ``admin`` is a global role only.
_team_roles: set[str] = {Role.VIEWER, Role.DEVELOPER, Role.OWNER}


def register_permissions(
    permissions: Iterable[str],
    grants: Mapping[str, Iterable[str]],
    *,
    team_roles: Iterable[str] = (),
) -> None:
    """Declare a product's permissions and what each role grants of them.

    A role named in ``grants`` that the kit does not know becomes a new global role; those in
    ``team_roles`` may also be held within a team. Registering again adds to what is there
    (two products in one process share the registry; their permission strings differ).
    Raises ``ValueError`` for a grant of an undeclared permission or a malformed name.
    """
    declared = [str(p) for p in permissions]
    for name in declared:
        _check_name(name, "permission")
    with _lock:
        known = _permissions | set(declared)
        for role, granted in grants.items():
            _check_name(str(role), "role")
            unknown = {str(p) for p in granted} - known
            if unknown:
                raise ValueError(f"role {role!r} is granted undeclared {sorted(unknown)}")
        _permissions.update(declared)
        for role, granted in grants.items():
            _grants.setdefault(str(role), set()).update(str(p) for p in granted)
        for role in team_roles:
            if str(role) not in _grants:
                raise ValueError(f"team role {role!r} has no grants")
            _team_roles.add(str(role))


def _check_name(name: str, what: str) -> None:
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise ValueError(f"invalid {what} name {name!r}")


def check_permission(permission: str) -> str:
    """``permission`` if declared (by the kit or a product), else ``ValueError``."""
    if str(permission) not in _permissions:
        raise ValueError(f"unknown permission {permission!r}")
    return str(permission)


def check_role(role: str) -> str:
    """``role`` if it is a known role, else ``ValueError``."""
    if str(role) not in _grants:
        raise ValueError(f"unknown role {role!r}")
    return str(role)


def check_team_role(role: str) -> str:
    """``role`` if a team member may hold it, else ``ValueError``."""
    if str(role) not in _team_roles:
        raise ValueError(f"a team role is one of {sorted(_team_roles)}")
    return str(role)


def team_roles() -> frozenset[str]:
    """The roles a team member may hold."""
    return frozenset(_team_roles)


def role_has(role: str, permission: str) -> bool:
    """True when ``role`` grants ``permission`` (``admin:*`` grants everything).

    Raises ``ValueError`` for an unknown role or permission.
    """
    granted = _grants[check_role(role)]
    return KitPermission.ADMIN_ALL in granted or check_permission(permission) in granted


def scopes_allow(scopes: Iterable[str], permission: str) -> bool:
    """True when a scope set contains ``permission`` or ``admin:*``."""
    present = set(scopes)
    return KitPermission.ADMIN_ALL.value in present or str(permission) in present


def permissions_of(role: str) -> frozenset[str]:
    """The permission strings ``role`` grants (``{"admin:*"}`` for admin)."""
    return frozenset(str(p) for p in _grants[check_role(role)])


#: A permission string that must be declared (pydantic field type for API-key scopes).
DeclaredPermission = Annotated[str, AfterValidator(check_permission)]
#: A role a team member may hold (pydantic field type).
TeamRole = Annotated[str, AfterValidator(check_team_role)]
