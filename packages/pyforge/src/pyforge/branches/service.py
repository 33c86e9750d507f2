"""Rules and transactions of the branches domain: branches, branch and pull-request
analyses, the new-code period, the overview, and retention.

Events: ``branch.created`` when a branch's first analysis creates it; ``branch.deleted``
when a user deletes it or retention purges it (``reason``). Branch analyses emit the usual
analysis events, which carry ``branch``, ``target_branch`` and ``pull_request``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Final

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.cache import Cache
from forgekit.errors import Conflict, NotFound, Unprocessable
from forgekit.events.outbox import enqueue
from forgekit.identity.principal import Principal
from forgekit.runtime import Runtime
from pyforge.access import project_for
from pyforge.analyses import service as analyses
from pyforge.analyses.models import Analysis, ProjectMetrics
from pyforge.analyses.repository import MetricsRepository
from pyforge.branches.baseline import create_once, default_branch
from pyforge.branches.models import Branch, NewCodePeriod, PeriodKind
from pyforge.branches.repository import (
    BranchAnalysisRepository,
    BranchRepository,
    NewCodePeriodRepository,
)
from pyforge.branches.schemas import (
    BRANCH_NAME,
    PULL_REQUEST,
    BranchPage,
    BranchRead,
    CodeSide,
    NewCodePeriodIn,
    NewCodePeriodRead,
    OverviewRead,
)
from pyforge.cache_keys import analysis_key
from pyforge.events import BRANCH_CREATED, BRANCH_DELETED, BranchEvent
from pyforge.files.service import files
from pyforge.permissions import Permission
from pyforge.projects.models import Project

BRANCH_NOT_FOUND: Final = "Branch not found."
RATING_KINDS: Final = ("reliability", "security", "maintainability")


def _event(branch: Branch, reason: str | None = None) -> BranchEvent:
    return BranchEvent(
        project_id=branch.project_id,
        branch_id=branch.id,
        name=branch.name,
        is_default=branch.is_default,
        target=branch.target,
        reason=reason,
    )


def check_name(name: str, what: str = "branch") -> str:
    """``name`` when it is a valid branch name (422 otherwise)."""
    if not BRANCH_NAME.match(name):
        raise Unprocessable(f"{name!r} is not a valid {what} name.")
    return name


async def _read(session: AsyncSession, branch: Branch) -> BranchRead:
    latest = await BranchAnalysisRepository(session).latest_succeeded(branch.id)
    return BranchRead(
        id=branch.id,
        project_id=branch.project_id,
        name=branch.name,
        is_default=branch.is_default,
        target=branch.target,
        created_at=branch.created_at,
        updated_at=branch.updated_at,
        last_analysis_at=branch.last_analysis_at,
        latest_analysis_id=latest.id if latest else None,
        quality_gate_status=latest.gate_status if latest else None,
    )


async def list_branches(session: AsyncSession, project: Project) -> BranchPage:
    """Every branch of the project, the default first (created on first use)."""
    await default_branch(session, project.id)
    await session.commit()
    rows = await BranchRepository(session).of_project(project.id)
    items = [await _read(session, b) for b in rows]
    return BranchPage(items=items, total=len(items), limit=len(items), offset=0)


async def branch_of(session: AsyncSession, project: Project, branch_id: uuid.UUID) -> Branch:
    """The project's branch ``branch_id`` (404 when it belongs to another project)."""
    branch = await session.get(Branch, branch_id)
    if branch is None or branch.project_id != project.id:
        raise NotFound(BRANCH_NOT_FOUND)
    return branch


async def get_branch(session: AsyncSession, project: Project, branch_id: uuid.UUID) -> BranchRead:
    """One branch with its latest analysis' gate."""
    return await _read(session, await branch_of(session, project, branch_id))


async def delete_branch(
    session: AsyncSession,
    cache: Cache,
    principal: Principal,
    project: Project,
    branch_id: uuid.UUID,
) -> None:
    """Delete a branch and everything analysed on it (not the default branch: 409)."""
    branch = await branch_of(session, project, branch_id)
    if branch.is_default:
        raise Conflict("The default branch cannot be deleted.")
    gone = await _delete(session, branch)
    await enqueue(
        session,
        BRANCH_DELETED,
        _event(branch, "user"),
        metadata={"actor_id": str(principal.user_id)},
    )
    await session.commit()
    await forget(cache, gone)


async def forget(cache: Cache, analysis_ids: list[uuid.UUID]) -> None:
    """Drop deleted analyses from the cache (ended ones are served from it)."""
    for analysis_id in analysis_ids:
        await cache.delete(analysis_key(analysis_id))


async def _delete(session: AsyncSession, branch: Branch) -> list[uuid.UUID]:
    # The analyses go first and explicitly (their findings and metrics follow by ON DELETE
    # CASCADE): the ORM must not try to keep rows that point at a branch it deletes.
    ids = await BranchAnalysisRepository(session).ids_of(branch.id)
    await session.execute(delete(Analysis).where(Analysis.branch_id == branch.id))
    await session.delete(branch)
    await session.flush()
    return ids


# --- branch and pull-request analyses ------------------------------------------------------


@dataclass(frozen=True)
class BranchRequest:
    """What ``POST .../branch-analyses`` asks for."""

    branch: str
    target: str | None = None
    pull_request: str | None = None
    version: str | None = None


async def _branch_for_request(
    session: AsyncSession, project: Project, request: BranchRequest, default: Branch
) -> Branch:
    """The requested branch, created (with its target) by its first analysis."""
    repo = BranchRepository(session)
    target_name = request.target or default.name
    if target_name == request.branch:
        raise Unprocessable("A branch cannot target itself.")
    if await repo.named(project.id, target_name) is None:
        raise Unprocessable(
            f"The target branch {target_name!r} has no analysis yet.", target=target_name
        )
    branch = await repo.named(project.id, request.branch)
    if branch is None:
        new = Branch(id=uuid.uuid4(), project_id=project.id, name=request.branch,
                     is_default=False, target=target_name)  # fmt: skip
        if await create_once(session, new) is not None:
            await enqueue(session, BRANCH_CREATED, _event(new))
            return new
        # A concurrent first analysis of the same branch created it: use that one.
        branch = await repo.named(project.id, request.branch)
        if branch is None:  # pragma: no cover - deleted again in between
            raise Conflict("The branch changed concurrently; try again.")
    if request.target:
        branch.target = target_name
    return branch


def _check_request(request: BranchRequest) -> None:
    check_name(request.branch)
    if request.target is not None:
        check_name(request.target, "target branch")
    if request.pull_request is not None and not PULL_REQUEST.match(request.pull_request):
        raise Unprocessable("pull_request must be letters, digits, . _ - # (at most 64).")
    if request.version is not None and not 1 <= len(request.version) <= 100:
        raise Unprocessable("version must be 1 to 100 characters.")


async def request_branch_analysis(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    project: Project,
    request: BranchRequest,
    upload: tuple[BinaryIO, int, str | None],
) -> Analysis:
    """Analyse an uploaded tree as ``request.branch`` (a pull request when one is named).

    The default branch's tree becomes the project's files, as ``pyforge push`` always did;
    another branch's tree is stored apart and compared with its target's latest analysis.
    """
    _check_request(request)
    fh, size, filename = upload
    default = await default_branch(session, project.id)
    if request.branch == default.name and request.pull_request is None:
        await files.upload(
            session, runtime, principal, project.id, fh, size=size, filename=filename, replace=True
        )
        project = await project_for(session, principal, project.id, Permission.ANALYSIS_RUN)
        target = analyses.Target(version=request.version)
        return await analyses.request_analysis(session, principal, project, target)
    if request.branch == default.name:
        raise Unprocessable("A pull request is analysed on its own branch, not the default one.")
    manifest = await files.store_tree(session, runtime, fh, size=size, filename=filename)
    # The upload committed the request's transaction: check access again before writing.
    project = await project_for(session, principal, project.id, Permission.ANALYSIS_RUN)
    default = await default_branch(session, project.id)
    branch = await _branch_for_request(session, project, request, default)
    target = analyses.Target(
        branch=branch, pull_request=request.pull_request, version=request.version, manifest=manifest
    )
    return await analyses.request_analysis(session, principal, project, target)


# --- the new-code period -------------------------------------------------------------------


def _period_read(project: Project, row: NewCodePeriod | None) -> NewCodePeriodRead:
    if row is None:
        return NewCodePeriodRead(project_id=project.id, kind="previous_analysis", is_default=True)
    return NewCodePeriodRead.model_validate(
        {"project_id": project.id, "kind": row.kind, "value": row.value}
    )


async def get_period(session: AsyncSession, project: Project) -> NewCodePeriodRead:
    """The project's new-code period (since the previous analysis when never set)."""
    return _period_read(project, await NewCodePeriodRepository(session).of_project(project.id))


async def set_period(
    session: AsyncSession, project: Project, body: NewCodePeriodIn
) -> NewCodePeriodRead:
    """Set the project's new-code period; applies from the next analysis on."""
    repo = NewCodePeriodRepository(session)
    row = await repo.of_project(project.id)
    if row is None:
        row = NewCodePeriod(id=uuid.uuid4(), project_id=project.id, kind=body.kind)
        session.add(row)
    row.kind = PeriodKind(body.kind).value
    row.value = body.value
    await session.commit()
    return _period_read(project, row)


# --- the overview --------------------------------------------------------------------------


def _overall_side(row: ProjectMetrics | None, analysis: Analysis, gate_on: str) -> CodeSide:
    from pyforge.analyses import metrics as m

    values: dict[str, Any] = {}
    if row is not None:
        values = {n: getattr(row, n) for n in m.HISTORY_METRICS if n not in m.RATING_METRICS}
    ratings = dict((analysis.summary or {}).get("ratings") or {})
    gate = analysis.gate if gate_on == "overall" else None
    return CodeSide(
        metrics=values, ratings={k: ratings.get(k, "A") for k in RATING_KINDS}, quality_gate=gate
    )


async def overview(
    session: AsyncSession, project: Project, branch_name: str | None
) -> OverviewRead:
    """The latest succeeded analysis of a branch (default: the default branch) with overall
    and new-code measures side by side."""
    repo = BranchRepository(session)
    branch = await (
        repo.named(project.id, branch_name) if branch_name else repo.default_of(project.id)
    )
    if branch is None:
        raise NotFound(BRANCH_NOT_FOUND)
    analysis = await BranchAnalysisRepository(session).latest_succeeded(branch.id)
    if analysis is None:
        raise NotFound("This branch has no succeeded analysis yet.")
    metrics_row = await MetricsRepository(session).one_or_none(
        MetricsRepository(session).select_all().where(ProjectMetrics.analysis_id == analysis.id)
    )
    new_code = analysis.new_code or {}
    gate_on = "overall" if branch.is_default else "new_code"
    return OverviewRead(
        project_id=project.id,
        branch=branch.name,
        is_default=branch.is_default,
        analysis_id=analysis.id,
        pull_request=analysis.pull_request,
        gate_on=gate_on,
        period=new_code.get("period"),
        new_code_findings=new_code.get("findings") or {},
        overall=_overall_side(metrics_row, analysis, gate_on),
        new_code=CodeSide(
            metrics=new_code.get("metrics") or {},
            ratings=new_code.get("ratings") or {},
            quality_gate=new_code.get("quality_gate"),
        ),
    )


# --- retention -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Purged:
    """What one retention pass removed."""

    analyses: list[uuid.UUID]
    branches: int


async def purge(session: AsyncSession, before: datetime) -> Purged:
    """Delete non-default branches' analyses created before ``before``, and the branches not
    analysed since then (with a ``branch.deleted`` event each). The caller commits, then
    drops the analyses from the cache (:func:`forget`)."""
    gone = await BranchAnalysisRepository(session).purge_older_than(before)
    branches = list(await BranchRepository(session).idle_since(before))
    for branch in branches:
        gone.extend(await _delete(session, branch))
        await enqueue(session, BRANCH_DELETED, _event(branch, "retention"))
    return Purged(gone, len(branches))
