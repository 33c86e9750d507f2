"""Catalogue import and export over HTTP (staff)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from forgekit.csv_export import CSV_RESPONSES, csv_response
from forgekit.deps import SessionDep
from forgekit.errors import PayloadTooLarge
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from shop.imports.schemas import ImportRead
from shop.imports.service import export_rows, get_job, import_read, queue_import
from shop.permissions import Permission
from shop.runtime import ShopRuntimeDep

router = APIRouter(prefix="/api/v1/catalogue", tags=["catalogue"])

Staff = Annotated[Principal, Depends(require_scopes(Permission.CATALOGUE_MANAGE))]


@router.post("/imports", status_code=status.HTTP_202_ACCEPTED)
async def start_import(
    principal: Staff,
    runtime: ShopRuntimeDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="A catalogue CSV (see the README)")],
) -> ImportRead:
    """Queue a CSV import for the worker; follow it at ``GET .../imports/{id}``."""
    limit = runtime.app_settings.import_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"A CSV file may be at most {limit} bytes.")
    job = await queue_import(session, runtime.storage, runtime.app_settings, principal.user_id,
                             data, file.filename or "")  # fmt: skip
    return import_read(job)


@router.get("/imports/{job_id}")
async def import_status(job_id: uuid.UUID, _: Staff, session: SessionDep) -> ImportRead:
    """Status, progress (rows checked of the total) and the rejected rows with reasons."""
    return import_read(await get_job(session, job_id))


@router.get(
    "/export.csv", response_class=StreamingResponse, responses=CSV_RESPONSES
)
async def export_catalogue(
    _: Staff, runtime: ShopRuntimeDep, session: SessionDep
) -> Response:
    """Every live product and variant in the import's format, streamed."""
    # The request's session (the auth lookup) would stay open while the body streams; on
    # SQLite it holds the write lock the export's own page reads then wait for.
    await session.close()
    return csv_response(export_rows(runtime.db), "catalogue.csv")
