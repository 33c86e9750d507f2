"""HTTP endpoints of project files: ``/api/v1/projects/{project_id}/files``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status

from forgekit.deps import RuntimeDep, SessionDep
from forgekit.errors import PayloadTooLarge
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from pyforge.access import ReadableProject, WritableProject
from pyforge.files.schemas import FileContent, FilePage, SourceView, UploadResult
from pyforge.files.service import MAX_PAGE_SIZE, files
from pyforge.permissions import Permission

router = APIRouter(prefix="/api/v1/projects/{project_id}/files", tags=["files"])
source_router = APIRouter(prefix="/api/v1/projects/{project_id}/source", tags=["files"])

FileWriter = Annotated[Principal, Depends(require_scopes(Permission.PROJECT_WRITE))]


@router.post("", status_code=status.HTTP_201_CREATED)
async def upload_files(
    project: WritableProject,
    principal: FileWriter,
    session: SessionDep,
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File(description="A file, or a .zip/.tar.gz/.tar of a tree")],
    path: Annotated[str | None, Form(max_length=1024)] = None,
    replace: Annotated[bool, Form()] = False,
) -> UploadResult:
    """Upload one file (at ``path``, else its name) or an archive unpacked into the tree.

    With ``replace=true`` the upload becomes the complete tree: paths not in it are deleted.
    """
    limit = runtime.settings.max_upload_bytes
    # Starlette spooled the part to a temporary file; measure it rather than trust headers.
    size = file.file.seek(0, 2)
    if size > limit:
        raise PayloadTooLarge(f"The upload exceeds the limit of {limit} bytes.", max_size=limit)
    return await files.upload(
        session,
        runtime,
        principal,
        project.id,
        file.file,
        size=size,
        filename=file.filename,
        path=path,
        replace=replace,
    )


@router.get("")
async def list_files(
    project: ReadableProject,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    prefix: Annotated[str | None, Query(max_length=1024)] = None,
) -> FilePage:
    """The project's tree as a flat list sorted by path, optionally under ``prefix``."""
    return await files.list(
        session, project, limit=limit, offset=offset, cursor=cursor, prefix=prefix
    )


@router.get("/{file_id}")
async def get_file(
    file_id: uuid.UUID, project: ReadableProject, session: SessionDep, runtime: RuntimeDep
) -> FileContent:
    """A file's metadata and content (text, or base64 for binary; none above 1 MiB)."""
    return await files.get(session, runtime.storage, project, file_id)


@source_router.get("")
async def get_source(
    project: ReadableProject,
    session: SessionDep,
    runtime: RuntimeDep,
    path: Annotated[str, Query(min_length=1, max_length=1024)],
) -> SourceView:
    """The file at ``path``, syntax-highlighted line by line (what the file view shows)."""
    return await files.source(session, runtime.storage, project, path)


@router.delete("/{file_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_file(
    file_id: uuid.UUID,
    project: WritableProject,
    principal: FileWriter,
    session: SessionDep,
) -> None:
    """Remove a file from the project's tree."""
    await files.delete(session, principal, project, file_id)
