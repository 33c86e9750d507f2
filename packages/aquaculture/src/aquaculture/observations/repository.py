"""Queries of observations (history filters, counts, labelled data) and jobs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, update

from aquaculture.observations.models import BatchJob, Correction, Observation
from forgekit.db.repository import Repository


@dataclass(frozen=True)
class HistoryFilter:
    """What the history of a farm is narrowed to."""

    tank_id: uuid.UUID | None = None
    species: str | None = None
    unsure: bool | None = None
    labelled: bool | None = None
    since: datetime | None = None
    until: datetime | None = None


class ObservationRepository(Repository[Observation]):
    """Observations of a farm."""

    model = Observation

    def history(self, farm_id: uuid.UUID, f: HistoryFilter) -> Select[Observation]:
        """A farm's observations, newest first, filtered (species: the label, else the
        prediction)."""
        stmt = select(Observation).where(Observation.farm_id == farm_id)
        if f.tank_id is not None:
            stmt = stmt.where(Observation.tank_id == f.tank_id)
        if f.species is not None:
            stmt = stmt.where(func.coalesce(Observation.label, Observation.species) == f.species)
        if f.unsure is not None:
            stmt = stmt.where(Observation.unsure.is_(f.unsure))
        if f.labelled is not None:
            stmt = stmt.where(
                Observation.label.is_not(None) if f.labelled else Observation.label.is_(None)
            )
        if f.since is not None:
            stmt = stmt.where(Observation.observed_at >= f.since)
        if f.until is not None:
            stmt = stmt.where(Observation.observed_at < f.until)
        return stmt.order_by(Observation.observed_at.desc(), Observation.id.desc())

    async def page(
        self, stmt: Select[Observation], limit: int, offset: int
    ) -> tuple[Sequence[Observation], int]:
        """One page of ``stmt`` and the total."""
        total = await self.count(stmt.order_by(None))
        return await self.all(stmt.limit(limit).offset(offset)), total

    async def tank_species(
        self, tank_id: uuid.UUID, since: datetime | None, until: datetime | None
    ) -> Sequence[tuple[datetime, str]]:
        """``(observed_at, species)`` of a tank's observations, the label winning."""
        stmt = select(
            Observation.observed_at, func.coalesce(Observation.label, Observation.species)
        ).where(Observation.tank_id == tank_id)
        if since is not None:
            stmt = stmt.where(Observation.observed_at >= since)
        if until is not None:
            stmt = stmt.where(Observation.observed_at < until)
        rows = await self.session.execute(stmt.order_by(Observation.observed_at))
        return [(r[0], r[1]) for r in rows.all()]


class CorrectionRepository(Repository[Correction]):
    """The label history of observations."""

    model = Correction

    async def of_observation(self, observation_id: uuid.UUID) -> Sequence[Correction]:
        """An observation's corrections, oldest first."""
        return await self.all(
            select(Correction)
            .where(Correction.observation_id == observation_id)
            .order_by(Correction.created_at, Correction.id)
        )


class JobRepository(Repository[BatchJob]):
    """Batch jobs."""

    model = BatchJob

    async def stalled(self, before: datetime) -> Sequence[BatchJob]:
        """Running jobs whose progress last moved before ``before``, locked for the caller."""
        stmt = select(BatchJob).where(BatchJob.status == "running", BatchJob.updated_at < before)
        return await self.all(stmt.with_for_update(skip_locked=True))

    async def advance(self, job_id: uuid.UUID, processed: int, failed: int) -> None:
        """Add to a job's counters (one statement: progress readers never see a torn update)."""
        await self.session.execute(
            update(BatchJob)
            .where(BatchJob.id == job_id)
            .values(processed=BatchJob.processed + processed, failed=BatchJob.failed + failed)
        )
