"""The batch consumer (group ``batches``: ``aquaculture worker --queues batches``).

A batch of more than ``batch_inline_max`` images was checked image by image at upload and
stored as one .zip; this consumer classifies it in chunks, each committed on its own, so
``GET .../jobs/{id}`` shows progress. A redelivered event resumes after the chunks already
counted instead of classifying them twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from aquaculture import events
from aquaculture.farms.models import Tank
from aquaculture.observations.images import read_zip
from aquaculture.observations.models import BatchJob
from aquaculture.observations.repository import JobRepository
from aquaculture.observations.service import parse_when, store_and_classify
from forgekit.db.base import utcnow
from forgekit.events import Event
from forgekit.events.outbox import enqueue

if TYPE_CHECKING:
    from aquaculture.runtime import AquacultureRuntime

log = logging.getLogger("aquaculture.batches")

CONSUMER = "batches.classify"
CHUNK = 32


class BatchRunner:
    """Runs one job per event."""

    def __init__(self, runtime: AquacultureRuntime) -> None:
        self.runtime = runtime

    async def handle(self, event: Event, session: AsyncSession) -> None:
        """Classify the job's images chunk by chunk, then mark it done and say so."""
        payload = events.BATCH_SUBMITTED.parse(event)
        job = await session.get(BatchJob, payload.job_id)
        if job is None or job.status in ("done", "failed"):
            return  # deleted with its farm, or already finished (a redelivery)
        await self._set(job.id, status="running")
        observed_at = parse_when(event.metadata.get("observed_at"), "observed_at")
        try:
            await self._run(job, observed_at)
        except Exception as exc:
            # The job records the failure for its reader; the event is not retried forever.
            log.exception("batch job %s failed", job.id)
            await self._set(job.id, status="failed", error=str(exc)[:500], finished_at=utcnow())
        else:
            await self._set(job.id, status="done", finished_at=utcnow())
        await session.refresh(job)
        await enqueue(
            session,
            events.BATCH_FINISHED,
            events.BATCH_FINISHED.payload(
                job_id=job.id,
                farm_id=job.farm_id,
                tank_id=job.tank_id,
                images=job.total,
                status=job.status,
                processed=job.processed,
                failed=job.failed,
            ),
        )

    async def _run(self, job: BatchJob, observed_at: datetime | None) -> None:
        data = await self.runtime.storage.read(job.archive_sha256)
        images = read_zip(data, self.runtime.app_settings)
        start = job.processed + job.failed
        for i in range(start, len(images), CHUNK):
            chunk = images[i : i + CHUNK]
            async with self.runtime.db.transaction() as s:
                tank = await s.get(Tank, job.tank_id)
                assert tank is not None  # the job's foreign key cascades with its tank
                await store_and_classify(
                    self.runtime,
                    s,
                    tank,
                    chunk,
                    user_id=job.created_by,
                    observed_at=observed_at,
                    job_id=job.id,
                )
                await JobRepository(s).advance(job.id, len(chunk), 0)

    async def _set(self, job_id: object, **values: object) -> None:
        async with self.runtime.db.transaction() as s:
            job = await s.get(BatchJob, job_id)
            if job is not None:
                for key, value in values.items():
                    setattr(job, key, value)


def register(runtime: AquacultureRuntime) -> BatchRunner:
    """Subscribe the batch consumer."""
    runner = BatchRunner(runtime)
    runtime.events.subscribe(CONSUMER, [events.BATCH_SUBMITTED], runner.handle, prefetch=1)
    return runner
