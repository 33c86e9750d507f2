"""Who may do what with a project: the one access rule every PyForge domain uses.

A caller's *role* on a project is

* ``admin`` for a global administrator (an admin session, or an admin's ``admin:*`` key);
* ``owner`` for the project's owner;
* their team role (viewer, developer, owner) when the project belongs to a live team they are
  a member of (the higher role wins when several apply);
* ``viewer`` for any authenticated caller when the project is public;
* none otherwise, and then the project does not exist for them: **404**, never 403, so a
  project id reveals nothing to an outsider.

An action needs its permission in the caller's role *and* in the principal's scopes (a login
session's global role, or an API key's scopes), else **403**.

Routes declare access once, in the signature::

    @router.post("/{project_id}/analyses")
    async def run(project: AnalyzableProject, ...) -> ...: ...

Services and consumers call :func:`project_for` (or :func:`role_for` when they hold a row).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated

from fastapi import Depends
from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.deps import SessionDep
from forgekit.errors import Forbidden, NotFound
from forgekit.identity.deps import CurrentPrincipal
from forgekit.identity.models import Team, TeamMember
from forgekit.identity.principal import Principal
from forgekit.identity.rbac import Role, role_has
from pyforge.permissions import Permission
from pyforge.projects.models import Project

__all__ = [
    "PROJECT_NOT_FOUND",
    "AnalyzableProject",
    "DeletableProject",
    "ProjectAccess",
    "ReadableProject",
    "WritableProject",
    "WritableProjectAccess",
    "authorize",
    "memberships_of",
    "project_access",
    "project_access_for",
    "project_for",
    "project_only",
    "resolve_role",
    "role_for",
    "team_role",
]

PROJECT_NOT_FOUND = "Project not found."

_RANK = {Role.VIEWER: 0, Role.DEVELOPER: 1, Role.OWNER: 2, Role.ADMIN: 3}


async def team_role(session: AsyncSession, team_id: uuid.UUID, user_id: uuid.UUID) -> Role | None:
    """The user's role in a live team, or None (not a member, or the team was deleted)."""
    role = await session.scalar(
        select(TeamMember.role)
        .join(Team, Team.id == TeamMember.team_id)
        .where(
            TeamMember.team_id == team_id,
            TeamMember.user_id == user_id,
            Team.deleted_at.is_(None),
        )
    )
    return Role(role) if role is not None else None


def resolve_role(
    principal: Principal,
    *,
    owner_id: uuid.UUID,
    team_id: uuid.UUID | None,
    is_public: bool,
    memberships: Mapping[uuid.UUID, Role],
) -> Role | None:
    """The caller's role given their live team ``memberships`` (team id -> role); pure.

    Listings use this with :func:`memberships_of` to resolve many projects in one query.
    """
    if principal.is_admin:
        return Role.ADMIN
    roles: list[Role] = []
    if owner_id == principal.user_id:
        roles.append(Role.OWNER)
    if team_id is not None and team_id in memberships:
        roles.append(memberships[team_id])
    if is_public:
        roles.append(Role.VIEWER)
    return max(roles, key=_RANK.__getitem__) if roles else None


# Statements run on most requests are built once: constructing the expression and its cache
# key anew on every call costs more CPU than the round trip. Values are bound parameters.
@cache
def _memberships_statement() -> Select[uuid.UUID, str]:
    return (
        select(TeamMember.team_id, TeamMember.role)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.user_id == bindparam("user_id"), Team.deleted_at.is_(None))
    )


@cache
def _project_statement(for_update: bool) -> Select[Project]:
    stmt = select(Project).where(
        Project.id == bindparam("project_id"), Project.deleted_at.is_(None)
    )
    return stmt.with_for_update() if for_update else stmt


async def memberships_of(session: AsyncSession, user_id: uuid.UUID) -> dict[uuid.UUID, Role]:
    """The user's live teams and their role in each."""
    rows = await session.execute(_memberships_statement(), {"user_id": user_id})
    return {team_id: Role(role) for team_id, role in rows.all()}


async def role_for(
    session: AsyncSession,
    principal: Principal,
    *,
    owner_id: uuid.UUID,
    team_id: uuid.UUID | None,
    is_public: bool,
) -> Role | None:
    """The caller's role on a project with these attributes; None means no access at all.

    Takes the attributes rather than a row so that a cached project can be checked too.
    Membership is always read from the database: a removed member loses access at once.
    """
    memberships: dict[uuid.UUID, Role] = {}
    if team_id is not None and not principal.is_admin:
        member_role = await team_role(session, team_id, principal.user_id)
        if member_role is not None:
            memberships[team_id] = member_role
    return resolve_role(
        principal,
        owner_id=owner_id,
        team_id=team_id,
        is_public=is_public,
        memberships=memberships,
    )


def authorize(principal: Principal, role: Role | None, permission: Permission | str) -> Role:
    """Check ``permission`` against a resolved role and the principal's scopes.

    Raises :class:`NotFound` without a role, :class:`Forbidden` when the scopes (API key,
    global role) or the project role lack the permission; returns the role.
    """
    if role is None:
        raise NotFound(PROJECT_NOT_FOUND)
    missing = principal.missing(permission)
    if missing:
        raise Forbidden(f"Missing scope: {', '.join(missing)}.", missing_scopes=missing)
    if not role_has(role, permission):
        raise Forbidden(
            f"Your role on this project ({role.value}) does not allow {permission}.",
            role=role.value,
        )
    return role


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    """A project together with the caller's resolved role on it."""

    project: Project
    role: Role


async def project_access_for(
    session: AsyncSession,
    principal: Principal,
    project_id: uuid.UUID,
    permission: Permission | str,
    *,
    for_update: bool = False,
) -> ProjectAccess:
    """The live project ``project_id`` and the caller's role, if the role grants ``permission``.

    404 when it does not exist, is deleted, or the caller has no access; 403 when the caller
    can see it but lacks the permission. ``for_update`` locks the row (PostgreSQL) for the rest
    of the transaction, to serialise writers of the same project.
    """
    stmt = _project_statement(for_update)
    project = (await session.execute(stmt, {"project_id": project_id})).scalar_one_or_none()
    if project is None:
        raise NotFound(PROJECT_NOT_FOUND)
    role = await role_for(
        session,
        principal,
        owner_id=project.owner_id,
        team_id=project.team_id,
        is_public=project.is_public,
    )
    return ProjectAccess(project, authorize(principal, role, permission))


async def project_for(
    session: AsyncSession,
    principal: Principal,
    project_id: uuid.UUID,
    permission: Permission | str,
    *,
    for_update: bool = False,
) -> Project:
    """The project of :func:`project_access_for`, for callers that do not need the role."""
    access = await project_access_for(
        session, principal, project_id, permission, for_update=for_update
    )
    return access.project


def project_access(permission: Permission | str) -> Callable[..., Awaitable[ProjectAccess]]:
    """A FastAPI dependency resolving the path's ``project_id`` and the caller's role on it.

    The permission string is checked when the route is declared, so a typo fails at import.
    """
    required = Permission(permission)

    async def dependency(
        project_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
    ) -> ProjectAccess:
        return await project_access_for(session, principal, project_id, required)

    return dependency


def project_only(permission: Permission | str) -> Callable[..., Awaitable[Project]]:
    """Like :func:`project_access`, for routes that need the project only."""
    required = Permission(permission)

    async def dependency(
        project_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
    ) -> Project:
        return await project_for(session, principal, project_id, required)

    return dependency


ReadableProject = Annotated[Project, Depends(project_only(Permission.PROJECT_READ))]
"""The path's project, readable by the caller (404 otherwise)."""
WritableProject = Annotated[Project, Depends(project_only(Permission.PROJECT_WRITE))]
"""The path's project, writable by the caller (developers and owners)."""
WritableProjectAccess = Annotated[ProjectAccess, Depends(project_access(Permission.PROJECT_WRITE))]
"""The path's project and the caller's role on it (developers and owners)."""
DeletableProject = Annotated[Project, Depends(project_only(Permission.PROJECT_DELETE))]
"""The path's project, deletable by the caller (owners)."""
AnalyzableProject = Annotated[Project, Depends(project_only(Permission.ANALYSIS_RUN))]
"""The path's project, on which the caller may start analyses (developers and owners)."""
