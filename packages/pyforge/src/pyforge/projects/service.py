"""Project rules: creation, listing, reads through the cache, replace/patch, soft delete.

Services raise :mod:`forgekit.errors` problems and commit explicitly, so that the outbox event
and the change that caused it share one transaction. The cache entry ``project:{id}`` is
dropped after every committed change.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.cache import Cache
from forgekit.errors import Forbidden, Unprocessable
from forgekit.events.outbox import enqueue
from forgekit.identity.models import Team
from forgekit.identity.principal import Principal
from forgekit.identity.rbac import Role, role_has
from forgekit.pagination import SortKey, keyset_cursor, read_keyset_cursor
from pyforge.access import (
    PROJECT_NOT_FOUND,
    ProjectAccess,
    authorize,
    memberships_of,
    resolve_role,
    role_for,
    team_role,
)
from pyforge.cache_keys import PROJECT_TTL, project_key

#: Event types this domain emits.
from pyforge.events import (
    PROJECT_CREATED,
    PROJECT_DELETED,
    PROJECT_UPDATED,
    ProjectEvent,
    ProjectUpdated,
)
from pyforge.permissions import Permission
from pyforge.projects.models import Project
from pyforge.projects.repository import ProjectRepository
from pyforge.projects.schemas import (
    ProjectCreate,
    ProjectPage,
    ProjectRead,
    ProjectReplace,
    ProjectSettings,
    ProjectUpdate,
)

MAX_PAGE_SIZE = 100


class ProjectSort(SortKey):
    """Sort orders of the project list; ``-`` means descending."""

    NAME = "name"
    NAME_DESC = "-name"
    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    UPDATED_AT = "updated_at"
    UPDATED_AT_DESC = "-updated_at"


def _read(project: Project, role: Role | None) -> ProjectRead:
    read = ProjectRead.model_validate(project)
    read.role = role.value if role is not None else None
    return read


def _actor(principal: Principal) -> dict[str, Any]:
    return {"actor_id": str(principal.user_id)}


def _event_payload(project: Project) -> ProjectEvent:
    return ProjectEvent(
        project_id=project.id,
        name=project.name,
        owner_id=project.owner_id,
        team_id=project.team_id,
        is_public=project.is_public,
    )


class ProjectService:
    """Projects: who may see and change them is decided by :mod:`pyforge.access`."""

    async def _check_team(
        self, session: AsyncSession, principal: Principal, team_id: uuid.UUID
    ) -> None:
        """A project may be placed in a team only by its members who may write there."""
        team = await session.scalar(
            select(Team).where(Team.id == team_id, Team.deleted_at.is_(None))
        )
        role = None if team is None else await team_role(session, team_id, principal.user_id)
        if team is None or (role is None and not principal.is_admin):
            # Unknown and foreign teams look the same: a team id reveals nothing.
            raise Unprocessable(
                "No such team among yours.",
                errors=[
                    {"field": "body.team_id", "message": "team not found", "type": "not_found"}
                ],
            )
        if (
            role is not None
            and not principal.is_admin
            and not role_has(role, Permission.PROJECT_WRITE)
        ):
            raise Forbidden(f"Your role in this team ({role.value}) cannot add projects to it.")

    async def create(
        self, session: AsyncSession, cache: Cache, principal: Principal, data: ProjectCreate
    ) -> ProjectRead:
        """Create a project owned by the caller (optionally in one of their teams). Commits."""
        if data.team_id is not None:
            await self._check_team(session, principal, data.team_id)
        project = Project(
            name=data.name,
            description=data.description,
            owner_id=principal.user_id,
            team_id=data.team_id,
            settings=data.settings.model_dump(mode="json"),
            is_public=data.is_public,
        )
        await ProjectRepository(session).add(project)
        await enqueue(session, PROJECT_CREATED, _event_payload(project), metadata=_actor(principal))
        await session.commit()
        await cache.delete(project_key(project.id))
        return _read(project, Role.ADMIN if principal.is_admin else Role.OWNER)

    async def list(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        limit: int,
        offset: int = 0,
        cursor: str | None = None,
        sort: ProjectSort = ProjectSort.CREATED_AT_DESC,
        q: str | None = None,
        team_id: uuid.UUID | None = None,
        include_public: bool = False,
    ) -> ProjectPage:
        """A page of the projects the caller may read, with the total of all pages.

        Either ``offset`` or the opaque ``cursor`` of the previous page selects the page; a
        cursor is stable while rows are added or removed, an offset is not.
        """
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        repo = ProjectRepository(session)
        stmt = repo.select_visible(principal, include_public=include_public)
        if team_id is not None:
            stmt = stmt.where(Project.team_id == team_id)
        if q is not None:
            stmt = repo.search(stmt, q)
        column = getattr(Project, sort.field)
        order = (column.desc(), Project.id.desc()) if sort.descending else (column, Project.id)
        rows: list[Project]
        if cursor is not None:
            # The total counts every page, so it is taken before the keyset condition.
            total = await repo.count(stmt)
            value, last_id = read_keyset_cursor(cursor, sort.value, timestamp=sort.field != "name")
            stmt_page = repo.after(stmt, column, value, last_id, descending=sort.descending)
            offset = 0
            rows = list(await repo.all(stmt_page.order_by(*order).limit(limit + 1)))
        else:
            # The page and the total in one query: a window aggregate is computed before
            # OFFSET/LIMIT, so COUNT(*) OVER () is the number of rows on every page.
            page = stmt.add_columns(func.count().over().label("total"))
            result = await session.execute(page.order_by(*order).offset(offset).limit(limit + 1))
            pairs = result.all()
            rows = [project for project, _ in pairs]
            total = int(pairs[0][1]) if pairs else 0
            if not pairs and offset:  # past the last page: the window saw no rows to count
                total = await repo.count(stmt)
        has_more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = None
        if has_more and rows:
            last = rows[-1]
            next_cursor = keyset_cursor(sort.value, getattr(last, sort.field), last.id)
        # Memberships only matter for team projects; a page without any skips the query.
        needs_memberships = not principal.is_admin and any(p.team_id is not None for p in rows)
        memberships = await memberships_of(session, principal.user_id) if needs_memberships else {}
        items = [
            _read(
                p,
                resolve_role(
                    principal,
                    owner_id=p.owner_id,
                    team_id=p.team_id,
                    is_public=p.is_public,
                    memberships=memberships,
                ),
            )
            for p in rows
        ]
        return ProjectPage(
            items=items, total=total, limit=limit, offset=offset, next_cursor=next_cursor
        )

    async def get(
        self, session: AsyncSession, cache: Cache, principal: Principal, project_id: uuid.UUID
    ) -> ProjectRead:
        """One project, read through the cache; access is checked on every call.

        The cached entry holds the project's attributes, not anyone's role: membership is read
        from the database each time, so a removed member loses access at once.
        """

        async def load() -> dict[str, Any] | None:
            project = await ProjectRepository(session).get(project_id)
            return None if project is None else _read(project, None).model_dump(mode="json")

        cached = await cache.get_or_set(project_key(project_id), load, PROJECT_TTL)
        if cached is None:
            authorize(principal, None, Permission.PROJECT_READ)
        read = ProjectRead.model_validate(cached)
        role = await role_for(
            session,
            principal,
            owner_id=read.owner_id,
            team_id=read.team_id,
            is_public=read.is_public,
        )
        read.role = authorize(principal, role, Permission.PROJECT_READ).value
        return read

    async def _apply(
        self,
        session: AsyncSession,
        cache: Cache,
        principal: Principal,
        access: ProjectAccess,
        values: dict[str, Any],
    ) -> ProjectRead:
        project, role = access.project, access.role
        changed = {k: v for k, v in values.items() if getattr(project, k) != v}
        sensitive = {"team_id", "is_public"} & changed.keys()
        if sensitive and not role_has(role, Permission.PROJECT_DELETE):
            # Moving a project between teams or publishing it changes who can read its code:
            # an owner's decision, not a developer's.
            raise Forbidden(
                f"Only the project's owner may change {', '.join(sorted(sensitive))}.",
                fields=sorted(sensitive),
            )
        if changed.get("team_id") is not None:
            await self._check_team(session, principal, changed["team_id"])
        if changed:
            await ProjectRepository(session).update(project, changed)
            await enqueue(
                session,
                PROJECT_UPDATED,
                ProjectUpdated(**dict(_event_payload(project)), changed=sorted(changed)),
                metadata=_actor(principal),
            )
            await session.commit()
            await cache.delete(project_key(project.id))
        return _read(project, role)

    async def replace(
        self,
        session: AsyncSession,
        cache: Cache,
        principal: Principal,
        access: ProjectAccess,
        data: ProjectReplace,
    ) -> ProjectRead:
        """PUT: the project becomes exactly ``data`` (omitted fields take their defaults)."""
        values = data.model_dump(mode="json")
        values["team_id"] = data.team_id
        return await self._apply(session, cache, principal, access, values)

    async def update(
        self,
        session: AsyncSession,
        cache: Cache,
        principal: Principal,
        access: ProjectAccess,
        data: ProjectUpdate,
    ) -> ProjectRead:
        """PATCH: change the fields sent; ``settings`` keys merge into the stored settings."""
        project = access.project
        sent = data.model_fields_set
        values: dict[str, Any] = {}
        for name in ("name", "is_public"):
            if name in sent:
                if getattr(data, name) is None:
                    raise Unprocessable(
                        f"'{name}' cannot be null.",
                        errors=[
                            {"field": f"body.{name}", "message": "may not be null", "type": "null"}
                        ],
                    )
                values[name] = getattr(data, name)
        if "description" in sent:
            values["description"] = data.description
        if "team_id" in sent:
            values["team_id"] = data.team_id
        if "settings" in sent and data.settings is not None:
            merged = {
                **(project.settings or {}),
                **data.settings.model_dump(mode="json", exclude_unset=True, exclude_none=True),
            }
            try:
                settings = ProjectSettings.model_validate(merged)
            except ValidationError as exc:
                # Only stored settings that a newer engine no longer accepts get here.
                raise Unprocessable(
                    "The merged settings are invalid; send them complete with PUT.",
                    errors=[
                        {
                            "field": ".".join(["body", "settings", *map(str, e["loc"])]),
                            "message": e["msg"],
                            "type": e["type"],
                        }
                        for e in exc.errors()
                    ],
                ) from None
            values["settings"] = settings.model_dump(mode="json")
        return await self._apply(session, cache, principal, access, values)

    async def delete(
        self, session: AsyncSession, cache: Cache, principal: Principal, project: Project
    ) -> None:
        """Soft-delete a project (owners and admins). Commits."""
        await ProjectRepository(session).delete(project)
        await enqueue(session, PROJECT_DELETED, _event_payload(project), metadata=_actor(principal))
        await session.commit()
        # Prefix: other domains keep entries under ``project:{id}:…``; none should outlive it.
        await cache.delete_prefix(project_key(project.id))


projects = ProjectService()

__all__ = [
    "PROJECT_CREATED",
    "PROJECT_DELETED",
    "PROJECT_NOT_FOUND",
    "PROJECT_UPDATED",
    "ProjectService",
    "ProjectSort",
    "projects",
]
