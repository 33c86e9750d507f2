"""HTTP endpoints of resumable uploads.

``POST /api/v1/models/{owner}/{name}/uploads`` opens one; ``PUT /api/v1/uploads/{id}/chunks/{n}``
sends a chunk as ``application/octet-stream`` with its ``X-Chunk-SHA256``; ``GET`` shows which
chunks arrived; ``POST …/complete`` joins them; ``DELETE`` aborts.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, status

from forgekit.deps import RuntimeDep, SessionDep
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from modelhub.permissions import Permission
from modelhub.registry.service import models
from modelhub.runtime import ModelhubRuntimeDep
from modelhub.uploads.schemas import Sha256, UploadCompleted, UploadCreate, UploadRead
from modelhub.uploads.service import uploads

router = APIRouter(tags=["uploads"])

Writer = Annotated[Principal, Depends(require_scopes(Permission.MODEL_WRITE))]


@router.post("/api/v1/models/{owner}/{name}/uploads", status_code=status.HTTP_201_CREATED)
async def create_upload(
    owner: str,
    name: str,
    data: UploadCreate,
    principal: Writer,
    session: SessionDep,
    runtime: ModelhubRuntimeDep,
) -> UploadRead:
    """Open a resumable upload of a file for this model (its publisher)."""
    model = await models.owned(session, principal, owner, name)
    return await uploads.create(session, runtime.app_settings, principal, model, data)


@router.get("/api/v1/uploads/{upload_id}")
async def get_upload(upload_id: uuid.UUID, principal: Writer, session: SessionDep) -> UploadRead:
    """The upload's state and the chunks received (to resume, send the others)."""
    return await uploads.get(session, await uploads.own(session, principal, upload_id))


@router.put(
    "/api/v1/uploads/{upload_id}/chunks/{index}",
    status_code=status.HTTP_204_NO_CONTENT,
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
)  # fmt: skip
async def put_chunk(
    upload_id: uuid.UUID,
    index: Annotated[int, Path(ge=0, le=1_000_000)],
    request: Request,
    chunk_sha256: Annotated[Sha256, Header(alias="X-Chunk-SHA256")],
    principal: Writer,
    session: SessionDep,
    runtime: RuntimeDep,
) -> None:
    """Send chunk ``index`` (any order; sending one again replaces it)."""
    upload = await uploads.own(session, principal, upload_id)
    await uploads.put_chunk(
        session, runtime.storage, upload, index, request.stream(), chunk_sha256
    )


@router.post("/api/v1/uploads/{upload_id}/complete")
async def complete_upload(
    upload_id: uuid.UUID, principal: Writer, session: SessionDep, runtime: RuntimeDep
) -> UploadCompleted:
    """Join the chunks; the file's SHA-256 must be the declared one."""
    upload = await uploads.own(session, principal, upload_id)
    return await uploads.complete(session, runtime.storage, upload)


@router.delete("/api/v1/uploads/{upload_id}", status_code=status.HTTP_204_NO_CONTENT)
async def abort_upload(
    upload_id: uuid.UUID, principal: Writer, session: SessionDep, runtime: RuntimeDep
) -> None:
    """Abort an open upload and delete its chunks."""
    upload = await uploads.own(session, principal, upload_id)
    await uploads.abort(session, runtime.storage, upload)
