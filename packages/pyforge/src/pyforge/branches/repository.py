"""Queries of the branches domain (no side effects: events and commits belong to services)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select

from forgekit.db.repository import Repository
from pyforge.analyses.models import Analysis, AnalysisStatus
from pyforge.branches.models import Branch, NewCodePeriod


class BranchRepository(Repository[Branch]):
    """A project's branches."""

    model = Branch

    async def of_project(self, project_id: uuid.UUID) -> Sequence[Branch]:
        """Every branch of a project, the default first, then by name."""
        return await self.all(
            select(Branch)
            .where(Branch.project_id == project_id)
            .order_by(Branch.is_default.desc(), Branch.name)
        )

    async def named(self, project_id: uuid.UUID, name: str) -> Branch | None:
        """The project's branch called ``name``."""
        return await self.one_or_none(
            select(Branch).where(Branch.project_id == project_id, Branch.name == name)
        )

    async def default_of(self, project_id: uuid.UUID) -> Branch | None:
        """The project's default branch (None before its first use)."""
        return await self.one_or_none(
            select(Branch).where(Branch.project_id == project_id, Branch.is_default.is_(True))
        )

    async def idle_since(self, before: datetime) -> Sequence[Branch]:
        """Non-default branches whose latest analysis request is older than ``before``."""
        return await self.all(
            select(Branch).where(
                Branch.is_default.is_(False),
                Branch.last_analysis_at.is_not(None),
                Branch.last_analysis_at < before,
            )
        )


class BranchAnalysisRepository(Repository[Analysis]):
    """Analyses looked up by branch (new-code baselines, retention)."""

    model = Analysis

    async def latest_succeeded(
        self, branch_id: uuid.UUID, *, exclude: uuid.UUID | None = None
    ) -> Analysis | None:
        """The branch's most recently finished succeeded analysis."""
        stmt = select(Analysis).where(
            Analysis.branch_id == branch_id, Analysis.status == AnalysisStatus.SUCCEEDED
        )
        if exclude is not None:
            stmt = stmt.where(Analysis.id != exclude)
        return await self.one_or_none(
            stmt.order_by(Analysis.finished_at.desc(), Analysis.id.desc()).limit(1)
        )

    async def first_with_version(
        self, branch_id: uuid.UUID, version: str, *, exclude: uuid.UUID
    ) -> Analysis | None:
        """The branch's first succeeded analysis labelled ``version``."""
        return await self.one_or_none(
            select(Analysis)
            .where(
                Analysis.branch_id == branch_id,
                Analysis.status == AnalysisStatus.SUCCEEDED,
                Analysis.version == version,
                Analysis.id != exclude,
            )
            .order_by(Analysis.finished_at.asc(), Analysis.id.asc())
            .limit(1)
        )

    async def latest_before(
        self, branch_id: uuid.UUID, before: datetime, *, exclude: uuid.UUID
    ) -> Analysis | None:
        """The branch's newest succeeded analysis finished before ``before``."""
        return await self.one_or_none(
            select(Analysis)
            .where(
                Analysis.branch_id == branch_id,
                Analysis.status == AnalysisStatus.SUCCEEDED,
                Analysis.finished_at < before,
                Analysis.id != exclude,
            )
            .order_by(Analysis.finished_at.desc(), Analysis.id.desc())
            .limit(1)
        )

    async def purge_older_than(self, before: datetime) -> list[uuid.UUID]:
        """Delete ended analyses of non-default branches created before ``before``; their ids."""
        non_default = select(Branch.id).where(Branch.is_default.is_(False))
        ids = list(
            (
                await self.session.execute(
                    select(Analysis.id).where(
                        Analysis.branch_id.in_(non_default),
                        Analysis.created_at < before,
                        Analysis.status.in_((AnalysisStatus.SUCCEEDED, AnalysisStatus.FAILED)),
                    )
                )
            ).scalars()
        )
        if ids:
            await self.session.execute(delete(Analysis).where(Analysis.id.in_(ids)))
        return ids

    async def ids_of(self, branch_id: uuid.UUID) -> list[uuid.UUID]:
        """The ids of the branch's analyses."""
        rows = await self.session.execute(
            select(Analysis.id).where(Analysis.branch_id == branch_id)
        )
        return list(rows.scalars())

    async def count_of(self, branch_id: uuid.UUID) -> int:
        """How many analyses the branch has."""
        return await self.count(select(Analysis).where(Analysis.branch_id == branch_id))


class NewCodePeriodRepository(Repository[NewCodePeriod]):
    """Projects' new-code periods."""

    model = NewCodePeriod

    async def of_project(self, project_id: uuid.UUID) -> NewCodePeriod | None:
        """The project's period (None: the default, since the previous analysis)."""
        return await self.one_or_none(
            select(NewCodePeriod).where(NewCodePeriod.project_id == project_id)
        )
