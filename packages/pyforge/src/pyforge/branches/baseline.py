"""Which analysis new code is measured against (read by the analyses domain's recorder).

* A branch other than the default one: its target branch's latest succeeded analysis.
* The default branch: the project's new-code period (see :class:`PeriodKind`) -- the previous
  analysis, the first analysis labelled with a version, the newest analysis at least N days
  old, or a reference branch's latest analysis. A period that names nothing yet (no analysis
  with that version, nothing that old) falls back to the previous analysis.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from pyforge.analyses.models import Analysis
from pyforge.branches.models import Branch, PeriodKind
from pyforge.branches.repository import (
    BranchAnalysisRepository,
    BranchRepository,
    NewCodePeriodRepository,
)

DEFAULT_BRANCH = "main"


@dataclass(frozen=True)
class Baseline:
    """The new-code baseline of one analysis and the period that chose it."""

    analysis: Analysis | None
    kind: str
    value: str | None = None

    def describe(self) -> dict[str, Any]:
        """The ``period`` object stored with the analysis' new-code results."""
        found = str(self.analysis.id) if self.analysis else None
        return {"kind": self.kind, "value": self.value, "baseline_analysis_id": found}


async def default_branch(session: AsyncSession, project_id: uuid.UUID) -> Branch:
    """The project's default branch, created (``main``) on first use."""
    repo = BranchRepository(session)
    branch = await repo.default_of(project_id)
    if branch is not None:
        return branch
    new = Branch(id=uuid.uuid4(), project_id=project_id, name=DEFAULT_BRANCH, is_default=True)
    created = await create_once(session, new)
    return created or await _must(repo.default_of(project_id))


async def create_once(session: AsyncSession, branch: Branch) -> Branch | None:
    """Insert ``branch``; None when a concurrent request created the same one first.

    The insert runs in a savepoint, so losing the race to the unique constraint leaves the
    caller's transaction usable for reading the winner's row.
    """
    try:
        async with session.begin_nested():
            session.add(branch)
            await session.flush()
    except IntegrityError:
        return None
    return branch


async def _must(found: Awaitable[Branch | None]) -> Branch:
    branch = await found
    if branch is None:  # pragma: no cover - the row that won the race is gone again
        raise RuntimeError("a branch created concurrently disappeared")
    return branch


async def previous_analysis(
    session: AsyncSession, analysis: Analysis, branch: Branch | None
) -> Analysis | None:
    """The analysis this one's lifecycle (new / unchanged / fixed) compares with.

    The branch's previous succeeded analysis; a branch's first analysis compares with its
    target, where the branch came from.
    """
    if branch is None:
        return None
    repo = BranchAnalysisRepository(session)
    previous = await repo.latest_succeeded(branch.id, exclude=analysis.id)
    if previous is None and not branch.is_default:
        target = await _target_of(session, branch)
        previous = await repo.latest_succeeded(target.id) if target is not None else None
    return previous


async def _target_of(session: AsyncSession, branch: Branch) -> Branch | None:
    repo = BranchRepository(session)
    if branch.target:
        return await repo.named(branch.project_id, branch.target)
    return await repo.default_of(branch.project_id)


async def resolve(
    session: AsyncSession, analysis: Analysis, branch: Branch | None, previous: Analysis | None
) -> Baseline:
    """The new-code baseline of ``analysis`` on ``branch``."""
    if branch is None:
        return Baseline(previous, PeriodKind.PREVIOUS_ANALYSIS.value)
    repo = BranchAnalysisRepository(session)
    if not branch.is_default:
        target = await _target_of(session, branch)
        found = await repo.latest_succeeded(target.id) if target is not None else None
        return Baseline(found, "target_branch", target.name if target else branch.target)
    period = await NewCodePeriodRepository(session).of_project(branch.project_id)
    if period is None or period.kind == PeriodKind.PREVIOUS_ANALYSIS:
        return Baseline(previous, PeriodKind.PREVIOUS_ANALYSIS.value)
    found = await _by_period(session, analysis, branch, period.kind, period.value or "")
    return Baseline(found or previous, period.kind, period.value)


async def _by_period(
    session: AsyncSession, analysis: Analysis, branch: Branch, kind: str, value: str
) -> Analysis | None:
    repo = BranchAnalysisRepository(session)
    if kind == PeriodKind.VERSION:
        return await repo.first_with_version(branch.id, value, exclude=analysis.id)
    if kind == PeriodKind.DAYS:
        before = utcnow() - timedelta(days=int(value))
        return await repo.latest_before(branch.id, before, exclude=analysis.id)
    reference = await BranchRepository(session).named(branch.project_id, value)
    if reference is None or reference.id == branch.id:
        return None
    return await repo.latest_succeeded(reference.id)
