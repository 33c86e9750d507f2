"""HTTP endpoints of asynchronous jobs: ``GET /api/v1/jobs/{id}`` and its cancel."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from forgekit.deps import SessionDep
from forgekit.identity.deps import CurrentPrincipal
from modelhub.jobs.schemas import JobRead
from modelhub.jobs.service import jobs, to_read
from modelhub.runtime import ModelhubRuntimeDep

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])


@router.get("/{job_id}")
async def get_job(job_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> JobRead:
    """A job of the caller: queued, running, succeeded (with the result), failed (with the
    error) or cancelled, with its timestamps; 404 once past its retention."""
    job, model = await jobs.get(session, principal, job_id)
    return to_read(job, model.slug)


@router.post("/{job_id}/cancel")
async def cancel_job(
    job_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    runtime: ModelhubRuntimeDep,
) -> JobRead:
    """Cancel a queued or running job (never billed); 409 when it has finished already."""
    return await jobs.cancel(session, runtime, principal, job_id)
