"""Queries of the run table and the version registry."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from shop.ml.models import MlModelVersion, MlRun, MlScheduleClaim, VersionState


async def active_version(session: AsyncSession, kind: str) -> MlModelVersion | None:
    """The version of ``kind`` that serves now."""
    stmt = select(MlModelVersion).where(
        MlModelVersion.kind == kind, MlModelVersion.state == VersionState.ACTIVE
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def next_version(session: AsyncSession, kind: str) -> int:
    """One more than the highest version of ``kind`` (the unique constraint guards races)."""
    stmt = select(func.max(MlModelVersion.version)).where(MlModelVersion.kind == kind)
    return int((await session.execute(stmt)).scalar_one() or 0) + 1


async def standby_versions(session: AsyncSession, kind: str) -> Sequence[MlModelVersion]:
    """Former active versions kept for rollback, newest first."""
    stmt = (
        select(MlModelVersion)
        .where(MlModelVersion.kind == kind, MlModelVersion.state == VersionState.STANDBY)
        .order_by(MlModelVersion.version.desc())
    )
    return (await session.execute(stmt)).scalars().all()


async def versions(session: AsyncSession, kind: str | None) -> Sequence[MlModelVersion]:
    """Every version (of one kind, or all), newest first."""
    stmt = select(MlModelVersion).order_by(MlModelVersion.kind, MlModelVersion.version.desc())
    if kind is not None:
        stmt = stmt.where(MlModelVersion.kind == kind)
    return (await session.execute(stmt)).scalars().all()


async def runs(session: AsyncSession, kind: str | None, limit: int) -> Sequence[MlRun]:
    """The latest runs, newest first."""
    stmt = select(MlRun).order_by(MlRun.started_at.desc()).limit(limit)
    if kind is not None:
        stmt = stmt.where(MlRun.kind == kind)
    return (await session.execute(stmt)).scalars().all()


async def claim_period(session: AsyncSession, kind: str, period: str, by: str) -> bool:
    """Claim the scheduled job ``(kind, period)``; True only for the one caller that inserted
    the row (``INSERT ... ON CONFLICT DO NOTHING``: concurrent claimers in any number of
    processes get False, and the transaction stays usable on PostgreSQL)."""
    values = {"kind": kind, "period": period, "claimed_by": by[:128], "claimed_at": utcnow()}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(MlScheduleClaim)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["kind", "period"])
        .returning(MlScheduleClaim.kind)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None
