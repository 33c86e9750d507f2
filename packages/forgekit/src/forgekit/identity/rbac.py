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

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ResourceScope:
    """A family of scopes naming one resource each: ``<family>:<resource>``.

    An API key may carry ``inference:alice/sentiment`` (one model) or, when ``wildcard`` is
    set, ``inference:alice/*`` (every resource under ``alice/``). Holding ``implied_by`` (a
    declared permission) holds every scope of the family: a login session of a role granting
    ``implied_by``, or a key scoped with it, is not limited to named resources.
    """

    family: str
    #: The resource part, matched in full (``^…$`` implied).
    resource: re.Pattern[str]
    implied_by: str
    wildcard: bool = True

    def parse(self, scope: str) -> str | None:
        """The resource part of ``scope`` when it belongs to this family and is well formed."""
        family, sep, resource = scope.partition(":")
        if family != self.family or not sep:
            return None
        if self.wildcard and resource.endswith("/*") and len(resource) > 2:
            # A wildcard names a prefix of resources; the prefix must itself be well formed.
            head = resource[:-2]
            return resource if self.resource.fullmatch(f"{head}/x") else None
        return resource if self.resource.fullmatch(resource) else None

    def covers(self, held: str, wanted: str) -> bool:
        """True when the held scope (exact or wildcard) grants the wanted one."""
        if held == wanted:
            return True
        return self.wildcard and held.endswith("/*") and wanted.startswith(held[:-1])


_resource_scopes: dict[str, ResourceScope] = {}


def register_resource_scope(
    family: str, resource_pattern: str, *, implied_by: str, wildcard: bool = True
) -> ResourceScope:
    """Declare a family of per-resource scopes (``<family>:<resource>``) for API keys.

    ``implied_by`` must be declared already (:func:`register_permissions`); granting a role
    that permission lets its users create keys limited to single resources of the family.
    Registering the same family again replaces it (products re-import in tests).
    """
    _check_name(family, "scope family")
    if ":" in family:
        raise ValueError(f"invalid scope family {family!r}")
    check_permission(implied_by)
    declared = ResourceScope(family, re.compile(resource_pattern), implied_by, wildcard)
    # A permission string that also reads as a resource scope would be ambiguous.
    clashes = sorted(p for p in _permissions if declared.parse(p) is not None)
    if clashes:
        raise ValueError(f"scope family {family!r} collides with permissions {clashes}")
    with _lock:
        _resource_scopes[family] = declared
    return declared


def resource_scope(scope: str) -> ResourceScope | None:
    """The registered family ``scope`` is a well-formed member of, else None."""
    family = _resource_scopes.get(scope.partition(":")[0])
    return family if family is not None and family.parse(scope) is not None else None


def check_scope(scope: str) -> str:
    """``scope`` if an API key may carry it (a declared permission or a well-formed resource
    scope of a registered family), else ``ValueError``."""
    if str(scope) in _permissions or resource_scope(str(scope)) is not None:
        return str(scope)
    family = scope.partition(":")[0]
    if family in _resource_scopes:
        raise ValueError(f"malformed {family} scope {scope!r}")
    raise ValueError(f"unknown permission {scope!r}")


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

    A resource scope (``inference:alice/m``) is granted with its family's ``implied_by``.
    Raises ``ValueError`` for an unknown role or permission.
    """
    granted = _grants[check_role(role)]
    family = resource_scope(str(permission))
    wanted = family.implied_by if family is not None else check_permission(permission)
    return KitPermission.ADMIN_ALL in granted or wanted in granted


def scopes_allow(scopes: Iterable[str], permission: str) -> bool:
    """True when a scope set contains ``permission`` or ``admin:*``; for a resource scope, also
    when it holds a wildcard covering it or the family's ``implied_by`` permission."""
    present = set(scopes)
    if KitPermission.ADMIN_ALL.value in present or str(permission) in present:
        return True
    family = resource_scope(str(permission))
    if family is None:
        return False
    return family.implied_by in present or any(family.covers(s, str(permission)) for s in present)


def permissions_of(role: str) -> frozenset[str]:
    """The permission strings ``role`` grants (``{"admin:*"}`` for admin)."""
    return frozenset(str(p) for p in _grants[check_role(role)])


#: A permission string that must be declared (pydantic field type for API-key scopes).
DeclaredPermission = Annotated[str, AfterValidator(check_permission)]
#: What an API key may carry: a declared permission or a registered resource scope.
GrantableScope = Annotated[str, AfterValidator(check_scope)]
#: A role a team member may hold (pydantic field type).
TeamRole = Annotated[str, AfterValidator(check_team_role)]
