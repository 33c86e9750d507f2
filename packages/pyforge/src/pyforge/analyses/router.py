"""HTTP endpoints of the analyses domain (thin: access, parsing, then the service)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import select

from forgekit.deps import RuntimeDep, SessionDep
from forgekit.errors import BadRequest, NotFound, PayloadTooLarge, Unprocessable
from forgekit.identity.deps import CurrentPrincipal, principal_rate_key
from forgekit.ratelimit.dependency import enforce
from forgekit.ratelimit.rate import parse_rate
from pyforge.access import AnalyzableProject, ReadableProject, project_for
from pyforge.analyses import service
from pyforge.analyses.schemas import (
    AnalysisPage,
    AnalysisRead,
    AnalysisRequestIn,
    AnalyzeCodeIn,
    AnalyzeCodeOut,
    AnalyzeProjectIn,
    FindingPage,
    FindingRead,
    MetricHistory,
    ProjectMetricsRead,
    ResolutionIn,
)
from pyforge.cache_keys import ANALYSIS_TTL, analysis_key
from pyforge.permissions import Permission
from pyforge.projects.models import Project
from pyforge.runtime import PyForgeRuntimeDep

router = APIRouter(prefix="/api/v1", tags=["analyses"])
analyze_router = APIRouter(prefix="/api/v1/analyze", tags=["analyze"])

MAX_PAGE = 500
_FILENAME = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")


# --- analyses -----------------------------------------------------------------------------------


@router.post("/projects/{project_id}/analyses", status_code=status.HTTP_202_ACCEPTED)
async def queue_analysis(
    project: AnalyzableProject,
    principal: CurrentPrincipal,
    session: SessionDep,
    body: AnalysisRequestIn | None = None,
) -> AnalysisRead:
    """Queue an analysis of the project's current files on its default branch (202; poll
    the analysis). An optional ``version`` labels it (a "since version" new-code period)."""
    target = service.Target(version=body.version if body else None)
    analysis = await service.request_analysis(session, principal, project, target)
    return service.analysis_read(analysis)


@router.get("/projects/{project_id}/analyses")
async def list_analyses(
    project: ReadableProject,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(queued|running|succeeded|failed)$")
    ] = None,
    branch: Annotated[str | None, Query(max_length=255)] = None,
    pull_request: Annotated[str | None, Query(max_length=64)] = None,
) -> AnalysisPage:
    """The project's analyses, newest first; ``branch`` / ``pull_request`` narrow them."""
    return await service.list_analyses(session, project, limit=limit, offset=offset,
                                       status=status_, branch=branch,
                                       pull_request=pull_request)  # fmt: skip


@router.get("/analyses/{analysis_id}")
async def get_analysis(
    analysis_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, runtime: RuntimeDep
) -> AnalysisRead:
    """Status, progress and, once ended, summary, quality gate, duration or error."""
    return await service.get_analysis(session, runtime.cache, principal, analysis_id)


SeverityName = Literal["blocker", "critical", "major", "minor", "info"]
StatusName = Literal["new", "unchanged", "fixed", "open", "accepted", "false_positive"]
NewCodeName = Literal["new", "inherited", "fixed"]


@router.get("/analyses/{analysis_id}/findings")
async def list_findings(
    analysis_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    severity: Annotated[list[SeverityName], Query()] = [],  # noqa: B006
    category: Annotated[list[str], Query()] = [],  # noqa: B006
    rule: Annotated[list[str], Query()] = [],  # noqa: B006
    path: Annotated[str | None, Query(max_length=1024)] = None,
    status_: Annotated[list[StatusName], Query(alias="status")] = [],  # noqa: B006
    new_code: Annotated[list[NewCodeName], Query()] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> FindingPage:
    """Findings filtered by severity, category, rule, path (``dir/`` for a prefix) and status.

    ``status`` is a lifecycle state (new, unchanged, fixed) or a resolution (open, accepted,
    false_positive); ``new_code`` compares with the new-code baseline, for a branch its target
    (new on the branch, inherited, fixed on the branch); every filter may repeat.
    """
    analysis, _ = await service.analysis_for(
        session, principal, analysis_id, Permission.PROJECT_READ
    )
    return await service.list_findings(
        session, analysis, limit=limit, offset=offset, severity=severity, category=category,
        rule=rule, path=path, status=status_, new_code=new_code,
    )  # fmt: skip


@router.get(
    "/analyses/{analysis_id}/sarif",
    response_class=Response,
    responses={200: {"description": "A SARIF 2.1.0 log.",
                     "content": {"application/sarif+json": {"schema": {"type": "object"}}}}},
)
async def get_sarif(
    analysis_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    new_code: Annotated[bool, Query()] = False,
) -> Response:
    """The analysis' findings as SARIF 2.1.0 (``application/sarif+json``); ``new_code=true``
    keeps those new against the baseline (a pull request's own, for code scanning)."""
    analysis, _ = await service.analysis_for(
        session, principal, analysis_id, Permission.PROJECT_READ
    )
    if analysis.status != "succeeded":
        raise NotFound("SARIF exists for succeeded analyses only.")
    log = await service.sarif(session, analysis, new_code_only=new_code)
    return Response(
        json.dumps(log), media_type="application/sarif+json",
        headers={"Content-Disposition": f'attachment; filename="pyforge-{analysis.id}.sarif"'},
    )  # fmt: skip


@router.patch("/findings/{finding_id}")
async def resolve_finding(
    finding_id: uuid.UUID, body: ResolutionIn, principal: CurrentPrincipal, session: SessionDep
) -> FindingRead:
    """Mark a finding accepted or false positive (``open`` reverts); needs ``project:write``.

    The decision belongs to the finding's fingerprint in its project, so it holds for later
    analyses too.
    """
    return await service.resolve_finding(
        session, principal, finding_id, body.resolution, body.reason
    )


@router.post("/analyses/{analysis_id}/findings/{finding_id}/resolution")
async def resolve_finding_of_analysis(
    analysis_id: uuid.UUID,
    finding_id: uuid.UUID,
    body: ResolutionIn,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> FindingRead:
    """Same as ``PATCH /api/v1/findings/{finding_id}``, addressed through its analysis."""
    return await service.resolve_finding(
        session, principal, finding_id, body.resolution, body.reason, analysis_id=analysis_id
    )


# --- metrics and badge --------------------------------------------------------------------------


@router.get("/projects/{project_id}/metrics")
async def project_metrics(
    project: ReadableProject, session: SessionDep, runtime: RuntimeDep
) -> ProjectMetricsRead:
    """Latest metrics and A-E ratings (reliability, security, maintainability)."""
    return await service.latest_metrics(session, runtime.cache, project)


@router.get("/projects/{project_id}/metrics/history")
async def metric_history(
    project: ReadableProject,
    session: SessionDep,
    metric: Annotated[str, Query(max_length=64)],
    limit: Annotated[int, Query(ge=1, le=service.HISTORY_MAX)] = 100,
) -> MetricHistory:
    """One metric across the project's analyses (unknown name: 422 listing valid ones)."""
    return await service.metric_history(session, project, metric, limit=limit)


_BADGE = """<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" \
aria-label="quality gate: {text}"><title>quality gate: {text}</title>\
<rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{rw}" height="20" \
fill="{color}"/><g fill="#fff" text-anchor="middle" font-family="Verdana,sans-serif" \
font-size="11"><text x="{lx}" y="14">quality gate</text><text x="{rx}" y="14">{text}</text></g>\
</svg>"""
_COLORS = {"passed": "#4c1", "failed": "#e05d44", "unknown": "#9f9f9f"}


def badge_svg(state: str) -> str:
    """A shields-style SVG badge for a gate state (passed, failed, unknown)."""
    lw, rw = 80, 8 + 7 * len(state)
    return _BADGE.format(w=lw + rw, lw=lw, rw=rw, lx=lw // 2, rx=lw + rw // 2, text=state,
                         color=_COLORS[state])  # fmt: skip


@router.get("/projects/{project_id}/badge.svg", response_class=Response)
async def badge(project_id: uuid.UUID, session: SessionDep) -> Response:
    """The quality-gate badge of a public project (no authentication; 404 if not public)."""
    project = await session.scalar(
        select(Project).where(
            Project.id == project_id, Project.deleted_at.is_(None), Project.is_public.is_(True)
        )
    )
    if project is None:
        raise NotFound("Project not found.")
    state = await service.gate_status(session, project.id)
    return Response(
        badge_svg(state), media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=60"},
    )  # fmt: skip


# --- the seed's /analyze paths -------------------------------------------------------------------


async def _read_json(request: Request, max_bytes: int) -> Any:
    # JSON escapes can make the body several times the source; the snippet itself is checked
    # against the limit after parsing.
    body_limit = max_bytes * 6 + 4096
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > body_limit:
        raise PayloadTooLarge(f"The snippet exceeds {max_bytes} bytes.", max_size=max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > body_limit:
            raise PayloadTooLarge(f"The snippet exceeds {max_bytes} bytes.", max_size=max_bytes)
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None


def _carried_headers(response: Response) -> dict[str, str]:
    # Headers dependencies set on FastAPI's temporary response (RateLimit-*), minus the
    # body-describing ones of that empty response.
    return {
        k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")
    }


@analyze_router.post(
    "/code",
    response_model=AnalyzeCodeOut,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": AnalyzeCodeIn.model_json_schema()}}}},
)  # fmt: skip
async def analyze_code(
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    runtime: PyForgeRuntimeDep,
) -> Response:
    """Analyse a snippet synchronously (size-limited, rate-limited): metrics and findings."""
    settings = runtime.app_settings
    await enforce(request, response, "analyze:code", parse_rate(settings.analyze_code_rate),
                  principal_rate_key(request))  # fmt: skip
    max_bytes = int(settings.analyze_code_max_bytes)
    data = await _read_json(request, max_bytes)
    try:
        body = AnalyzeCodeIn.model_validate(data)
    except ValidationError as exc:
        errors = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]}
                  for e in exc.errors()]  # fmt: skip
        raise Unprocessable("The request has invalid fields.", errors=errors) from None
    if len(body.code.encode()) > max_bytes:
        raise PayloadTooLarge(f"The snippet exceeds {max_bytes} bytes.", max_size=max_bytes)
    if not _FILENAME.match(body.filename) or ".." in body.filename.split("/"):
        raise Unprocessable("filename must be a relative path of letters, digits, . _ -")
    key = analysis_key("code-" + hashlib.sha256(
        body.filename.encode() + b"\0" + body.code.encode()).hexdigest())  # fmt: skip
    cached = await runtime.cache.get(key)
    if cached is not None:
        # The cache holds what this endpoint rendered from a validated AnalyzeCodeOut, so a hit
        # is sent as is: validating and re-serialising it would double the cost of the
        # cheapest answer. The rate-limit headers set on ``response`` are carried over.
        return JSONResponse(cached, headers=_carried_headers(response))
    from pyforge.analysis import analyze_source

    report = await asyncio.to_thread(analyze_source, body.code, body.filename)
    as_dict = report.to_dict()
    out = AnalyzeCodeOut(
        filename=body.filename,
        status=report.status,
        metrics=cast("dict[str, Any] | None", as_dict.get("metrics")),
        functions=list(as_dict.get("functions") or []),
        findings=[f.to_dict() for f in report.findings],
        notes=[n.to_dict() for n in report.notes],
    )
    rendered = out.model_dump(mode="json")
    await runtime.cache.set(key, rendered, ANALYSIS_TTL)
    return JSONResponse(rendered, headers=_carried_headers(response))


@analyze_router.post("/project", status_code=status.HTTP_202_ACCEPTED)
async def analyze_project(
    body: AnalyzeProjectIn, principal: CurrentPrincipal, session: SessionDep
) -> AnalysisRead:
    """Queue an analysis of a project (the seed's path for ``POST .../analyses``)."""
    project = await project_for(session, principal, body.project_id, Permission.ANALYSIS_RUN)
    analysis = await service.request_analysis(session, principal, project)
    return service.analysis_read(analysis)


@analyze_router.get("/metrics/{project_id}")
async def analyze_metrics(
    project: ReadableProject, session: SessionDep, runtime: RuntimeDep
) -> ProjectMetricsRead:
    """The seed's path for ``GET /api/v1/projects/{id}/metrics``."""
    return await service.latest_metrics(session, runtime.cache, project)
