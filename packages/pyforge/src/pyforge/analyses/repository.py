"""Queries of the analyses domain (no side effects: events and commits belong to services)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select

from forgekit.db.repository import Repository
from pyforge.analyses.models import (
    Analysis,
    AnalysisFinding,
    AnalysisStatus,
    FindingDecision,
    FindingStatus,
    ProjectMetrics,
)
from pyforge.branches.models import Branch


def _on_default_branch(branch_id: Any) -> Any:
    # Project-level figures (metrics, badge, history) are the default branch's: branch and
    # pull-request analyses must not move them. A null branch is a row from before branches.
    default = select(Branch.id).where(Branch.is_default.is_(True))
    return or_(branch_id.is_(None), branch_id.in_(default))


def _default_branch_metrics() -> Any:
    return ProjectMetrics.analysis_id.in_(
        select(Analysis.id).where(_on_default_branch(Analysis.branch_id))
    )


class AnalysisRepository(Repository[Analysis]):
    """Analyses of projects."""

    model = Analysis

    async def page(
        self,
        project_id: uuid.UUID,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        branch: str | None = None,
        pull_request: str | None = None,
    ) -> tuple[Sequence[Analysis], int]:
        """A page of the project's analyses, newest first, and the total count."""
        stmt = select(Analysis).where(Analysis.project_id == project_id)
        if status is not None:
            stmt = stmt.where(Analysis.status == status)
        if branch is not None:
            named = select(Branch.id).where(Branch.project_id == project_id, Branch.name == branch)
            stmt = stmt.where(Analysis.branch_id.in_(named))
        if pull_request is not None:
            stmt = stmt.where(Analysis.pull_request == pull_request)
        total = await self.count(stmt)
        rows = await self.all(
            stmt.order_by(Analysis.created_at.desc(), Analysis.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return rows, total

    async def latest_succeeded(
        self, project_id: uuid.UUID, *, exclude: uuid.UUID | None = None
    ) -> Analysis | None:
        """The project's most recently finished succeeded analysis of its default branch."""
        stmt = select(Analysis).where(
            Analysis.project_id == project_id, Analysis.status == AnalysisStatus.SUCCEEDED,
            _on_default_branch(Analysis.branch_id),
        )  # fmt: skip
        if exclude is not None:
            stmt = stmt.where(Analysis.id != exclude)
        return await self.one_or_none(
            stmt.order_by(Analysis.finished_at.desc(), Analysis.id.desc()).limit(1)
        )

    async def stale_running(self, before: Any) -> Sequence[Analysis]:
        """Running analyses whose heartbeat (``updated_at``) is older than ``before``."""
        return await self.all(
            select(Analysis).where(
                Analysis.status == AnalysisStatus.RUNNING, Analysis.updated_at < before
            )
        )


class FindingRepository(Repository[AnalysisFinding]):
    """Findings of analyses and the project's decisions on them."""

    model = AnalysisFinding

    async def current_of(self, analysis_id: uuid.UUID) -> Sequence[AnalysisFinding]:
        """The findings present in an analysis (its ``fixed`` history rows excluded)."""
        return await self.all(
            select(AnalysisFinding).where(
                AnalysisFinding.analysis_id == analysis_id,
                AnalysisFinding.status != FindingStatus.FIXED,
            )
        )

    async def delete_of(self, analysis_id: uuid.UUID) -> None:
        """Remove every finding of an analysis (a redelivered run starts clean)."""
        await self.session.execute(
            delete(AnalysisFinding).where(AnalysisFinding.analysis_id == analysis_id)
        )

    def filtered(
        self,
        analysis: Analysis,
        *,
        severity: Sequence[str] = (),
        category: Sequence[str] = (),
        rule: Sequence[str] = (),
        path: str | None = None,
        status: Sequence[str] = (),
        new_code: Sequence[str] = (),
    ) -> Select[AnalysisFinding, FindingDecision]:
        """Findings of ``analysis`` joined with their decision, filtered.

        ``status`` mixes lifecycle states (new, unchanged, fixed) and resolutions (open,
        accepted, false_positive); values of each kind are OR-ed, the kinds AND-ed.
        ``path`` matches a file exactly or, ending in ``/``, a directory prefix.
        """
        stmt = (
            select(AnalysisFinding, FindingDecision)
            .outerjoin(
                FindingDecision,
                and_(
                    FindingDecision.project_id == AnalysisFinding.project_id,
                    FindingDecision.fingerprint == AnalysisFinding.fingerprint,
                ),
            )
            .where(AnalysisFinding.analysis_id == analysis.id)
        )
        if severity:
            stmt = stmt.where(AnalysisFinding.severity.in_(severity))
        if category:
            stmt = stmt.where(AnalysisFinding.category.in_(category))
        if rule:
            stmt = stmt.where(AnalysisFinding.rule.in_(rule))
        if path:
            if path.endswith("/"):
                stmt = stmt.where(func.substr(AnalysisFinding.path, 1, len(path)) == path)
            else:
                stmt = stmt.where(AnalysisFinding.path == path)
        if new_code:
            stmt = stmt.where(AnalysisFinding.new_code_status.in_(new_code))
        lifecycle = [s for s in status if s in {x.value for x in FindingStatus}]
        resolutions = [s for s in status if s not in lifecycle]
        if lifecycle:
            stmt = stmt.where(AnalysisFinding.status.in_(lifecycle))
        if resolutions:
            conds = []
            if "open" in resolutions:
                conds.append(FindingDecision.id.is_(None))
            decided = [r for r in resolutions if r != "open"]
            if decided:
                conds.append(FindingDecision.resolution.in_(decided))
            stmt = stmt.where(or_(*conds))
        return stmt

    async def decisions(self, project_id: uuid.UUID) -> dict[str, FindingDecision]:
        """The project's decisions by fingerprint."""
        rows = await self.session.execute(
            select(FindingDecision).where(FindingDecision.project_id == project_id)
        )
        return {d.fingerprint: d for d in rows.scalars()}

    async def decision(self, project_id: uuid.UUID, fingerprint: str) -> FindingDecision | None:
        """The decision on one fingerprint, if any."""
        result = await self.session.execute(
            select(FindingDecision).where(
                FindingDecision.project_id == project_id,
                FindingDecision.fingerprint == fingerprint,
            )
        )
        return result.scalar_one_or_none()


class MetricsRepository(Repository[ProjectMetrics]):
    """Project metrics per analysis."""

    model = ProjectMetrics

    async def latest(self, project_id: uuid.UUID) -> ProjectMetrics | None:
        """The newest metrics row of a project."""
        return await self.one_or_none(
            select(ProjectMetrics)
            .where(ProjectMetrics.project_id == project_id, _default_branch_metrics())
            .order_by(ProjectMetrics.measured_at.desc(), ProjectMetrics.id.desc())
            .limit(1)
        )

    async def history(
        self, project_id: uuid.UUID, metric: str, *, limit: int
    ) -> list[tuple[uuid.UUID, Any, Any]]:
        """``(analysis_id, measured_at, value)`` of the newest ``limit`` rows, oldest first."""
        column = getattr(ProjectMetrics, metric)
        rows = await self.session.execute(
            select(ProjectMetrics.analysis_id, ProjectMetrics.measured_at, column)
            .where(ProjectMetrics.project_id == project_id, _default_branch_metrics())
            .order_by(ProjectMetrics.measured_at.desc(), ProjectMetrics.id.desc())
            .limit(limit)
        )
        return [(a, m, v) for a, m, v in reversed(rows.all())]

    async def delete_of(self, analysis_id: uuid.UUID) -> None:
        """Remove the metrics row of an analysis (a redelivered run starts clean)."""
        await self.session.execute(
            delete(ProjectMetrics).where(ProjectMetrics.analysis_id == analysis_id)
        )
