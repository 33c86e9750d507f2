"""HTTP endpoints of the branches domain (thin: access, parsing, then the service)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from forgekit.deps import RuntimeDep, SessionDep
from forgekit.errors import PayloadTooLarge
from forgekit.identity.deps import CurrentPrincipal
from pyforge.access import AnalyzableProject, ReadableProject, WritableProject
from pyforge.analyses import service as analyses
from pyforge.analyses.schemas import AnalysisRead
from pyforge.branches import service
from pyforge.branches.models import BRANCH_NAME_MAX
from pyforge.branches.schemas import (
    BranchPage,
    BranchRead,
    NewCodePeriodIn,
    NewCodePeriodRead,
    OverviewRead,
)

router = APIRouter(prefix="/api/v1/projects/{project_id}", tags=["branches"])


@router.get("/branches")
async def list_branches(project: ReadableProject, session: SessionDep) -> BranchPage:
    """The project's branches (the default first) with their latest gate status."""
    return await service.list_branches(session, project)


@router.get("/branches/{branch_id}")
async def get_branch(
    branch_id: uuid.UUID, project: ReadableProject, session: SessionDep
) -> BranchRead:
    """One branch with its latest gate status."""
    return await service.get_branch(session, project, branch_id)


@router.delete("/branches/{branch_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_branch(
    branch_id: uuid.UUID,
    project: WritableProject,
    principal: CurrentPrincipal,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """Delete a branch with its analyses and findings (the default branch: 409)."""
    await service.delete_branch(session, runtime.cache, principal, project, branch_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/branch-analyses", status_code=status.HTTP_202_ACCEPTED)
async def analyze_branch(
    project: AnalyzableProject,
    principal: CurrentPrincipal,
    session: SessionDep,
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File(description="The branch's tree: .zip, .tar.gz or .tar")],
    branch: Annotated[str, Form(min_length=1, max_length=BRANCH_NAME_MAX)],
    target: Annotated[str | None, Form(max_length=BRANCH_NAME_MAX)] = None,
    pull_request: Annotated[str | None, Form(max_length=64)] = None,
    version: Annotated[str | None, Form(max_length=100)] = None,
) -> AnalysisRead:
    """Queue an analysis of an uploaded tree as a branch or a pull request (202).

    A branch other than the default is created by its first analysis and compared with its
    ``target`` (default: the default branch); its gate is on new code only. The default
    branch's tree becomes the project's files.
    """
    limit = runtime.settings.max_upload_bytes
    size = file.file.seek(0, 2)
    if size > limit:
        raise PayloadTooLarge(f"The upload exceeds the limit of {limit} bytes.", max_size=limit)
    file.file.seek(0)
    request = service.BranchRequest(
        branch=branch,
        target=target or None,
        pull_request=pull_request or None,
        version=version or None,
    )
    analysis = await service.request_branch_analysis(
        session, runtime, principal, project, request, (file.file, size, file.filename)
    )
    return analyses.analysis_read(analysis)


@router.get("/new-code-period")
async def get_new_code_period(project: ReadableProject, session: SessionDep) -> NewCodePeriodRead:
    """The project's new-code period (default: since the previous analysis)."""
    return await service.get_period(session, project)


@router.put("/new-code-period")
async def set_new_code_period(
    body: NewCodePeriodIn, project: WritableProject, session: SessionDep
) -> NewCodePeriodRead:
    """Set the new-code period: previous_analysis, version, days or reference_branch."""
    return await service.set_period(session, project, body)


@router.get("/overview")
async def overview(
    project: ReadableProject,
    session: SessionDep,
    branch: Annotated[str | None, Query(max_length=BRANCH_NAME_MAX)] = None,
) -> OverviewRead:
    """A branch's latest analysis: overall and new code side by side (default branch when
    ``branch`` is not given)."""
    return await service.overview(session, project, branch)
