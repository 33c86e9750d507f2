"""HTTP endpoints of projects: ``/api/v1/projects``.

Endpoints only translate HTTP to service calls; each declares its authorization once, as a
dependency in its signature (:mod:`pyforge.access`).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from forgekit.deps import RuntimeDep, SessionDep
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from pyforge.access import DeletableProject, WritableProjectAccess
from pyforge.permissions import Permission
from pyforge.projects.schemas import (
    ProjectCreate,
    ProjectPage,
    ProjectRead,
    ProjectReplace,
    ProjectUpdate,
)
from pyforge.projects.service import MAX_PAGE_SIZE, ProjectSort, projects

router = APIRouter(prefix="/api/v1/projects", tags=["projects"])

ProjectReader = Annotated[Principal, Depends(require_scopes(Permission.PROJECT_READ))]
ProjectWriter = Annotated[Principal, Depends(require_scopes(Permission.PROJECT_WRITE))]


@router.get("")
async def list_projects(
    principal: ProjectReader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    sort: ProjectSort = ProjectSort.CREATED_AT_DESC,
    q: Annotated[str | None, Query(max_length=200, description="Full-text search")] = None,
    team_id: uuid.UUID | None = None,
    include_public: bool = False,
) -> ProjectPage:
    """The projects the caller may read (own and team projects; public ones on request)."""
    return await projects.list(
        session,
        principal,
        limit=limit,
        offset=offset,
        cursor=cursor,
        sort=sort,
        q=q,
        team_id=team_id,
        include_public=include_public,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_project(
    data: ProjectCreate, principal: ProjectWriter, session: SessionDep, runtime: RuntimeDep
) -> ProjectRead:
    """Create a project owned by the caller, optionally in one of their teams."""
    return await projects.create(session, runtime.cache, principal, data)


@router.get("/{project_id}")
async def get_project(
    project_id: uuid.UUID, principal: ProjectReader, session: SessionDep, runtime: RuntimeDep
) -> ProjectRead:
    """One project (404 when the caller may not read it)."""
    return await projects.get(session, runtime.cache, principal, project_id)


@router.put("/{project_id}")
async def replace_project(
    data: ProjectReplace,
    project: WritableProjectAccess,
    principal: ProjectWriter,
    session: SessionDep,
    runtime: RuntimeDep,
) -> ProjectRead:
    """Replace a project's fields; omitted optional fields return to their defaults."""
    return await projects.replace(session, runtime.cache, principal, project, data)


@router.patch("/{project_id}")
async def update_project(
    data: ProjectUpdate,
    project: WritableProjectAccess,
    principal: ProjectWriter,
    session: SessionDep,
    runtime: RuntimeDep,
) -> ProjectRead:
    """Change the fields sent; ``settings`` merges key by key."""
    return await projects.update(session, runtime.cache, principal, project, data)


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(
    project: DeletableProject,
    principal: Annotated[Principal, Depends(require_scopes(Permission.PROJECT_DELETE))],
    session: SessionDep,
    runtime: RuntimeDep,
) -> None:
    """Soft-delete a project (its owner or an admin)."""
    await projects.delete(session, runtime.cache, principal, project)
