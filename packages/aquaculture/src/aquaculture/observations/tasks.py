"""The batch consumer (group ``batches``: ``aquaculture worker --queues batches``).

A batch of more than ``batch_inline_max`` images was checked image by image at upload and
stored as one .zip. The handler claims the job (``queued`` -> ``running``) in the kit's
delivery transaction, with its idempotency record, and classifies the images in a task of the
worker process, chunk by chunk, each chunk committed on its own so ``GET .../jobs/{id}`` shows
progress. Why not inside the delivery transaction: on the embedded SQLite database a
transaction holds the only write lock, and a job of 500 images would stall the whole API.
The last transaction marks the job ``done`` (or ``failed`` with the reason) and emits
``aquaculture.batch.finished``. A process that dies mid-job leaves it ``running`` with a stale
``updated_at`` (each chunk moves it): the sweep re-queues such jobs, and the next claim resumes
after the chunks already counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from aquaculture import events
from aquaculture.observations.images import read_zip
from aquaculture.observations.models import BatchJob
from aquaculture.observations.repository import JobRepository
from aquaculture.observations.service import add_observations, classify_and_store, parse_when
from forgekit.db.base import utcnow
from forgekit.events import Event
from forgekit.events.outbox import enqueue
from forgekit.identity.models import User

if TYPE_CHECKING:
    from aquaculture.runtime import AquacultureRuntime

log = logging.getLogger("aquaculture.batches")

CONSUMER = "batches.classify"
NOTIFY_CONSUMER = "batches.notify"
CHUNK = 32


class BatchRunner:
    """Claims one job per event and runs it in the background, one job at a time."""

    consumer_group: str | None = "batches"

    def __init__(self, runtime: AquacultureRuntime) -> None:
        self.runtime = runtime
        self._gate = asyncio.Semaphore(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def handle(self, event: Event, session: AsyncSession) -> None:
        """Claim the job (idempotent: a finished or running job is left alone)."""
        payload = events.BATCH_SUBMITTED.parse(event)
        job = await session.get(BatchJob, payload.job_id)
        if job is None or job.status != "queued":
            return  # deleted with its farm, or already claimed (a redelivery)
        job.status = "running"
        observed_at = parse_when(event.metadata.get("observed_at"), "observed_at")
        task = asyncio.create_task(self._run_detached(job.id, observed_at))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_detached(self, job_id: uuid.UUID, observed_at: datetime | None) -> None:
        async with self._gate:
            # The claim commits with the delivery transaction; wait until it is visible.
            await self._wait_claimed(job_id)
            await self._wait_model()
            try:
                await self._run(job_id, observed_at)
            except Exception as exc:
                # Recorded on the job for its reader: a broken archive will not heal on retry.
                log.exception("batch job %s failed", job_id)
                await self._finish(job_id, "failed", str(exc)[:500])
            else:
                await self._finish(job_id, "done", None)

    async def _wait_claimed(self, job_id: uuid.UUID, timeout_s: float = 30.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            async with self.runtime.db.session() as s:
                job = await s.get(BatchJob, job_id)
                if job is not None and job.status == "running":
                    return
            await asyncio.sleep(0.05)

    async def _wait_model(self, timeout_s: float = 120.0) -> None:
        # A worker consumes as soon as its bus starts, and loads its model just after (the
        # runtime starts services last): a job claimed in between waits for the model.
        # Past the timeout the job runs anyway and fails with "no model loaded".
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.runtime.model_loaded.wait(), timeout_s)

    async def _run(self, job_id: uuid.UUID, observed_at: datetime | None) -> None:
        async with self.runtime.db.session() as s:
            job = await s.get(BatchJob, job_id)
            assert job is not None
            archive, farm_id, tank_id = job.archive_sha256, job.farm_id, job.tank_id
            user, start = job.created_by, job.processed + job.failed
        data = await self.runtime.storage.read(archive)
        images = await asyncio.to_thread(read_zip, data, self.runtime.app_settings)
        for i in range(start, len(images), CHUNK):
            chunk = images[i : i + CHUNK]
            done = await classify_and_store(self.runtime, chunk, skip_bad=True)
            async with self.runtime.db.transaction() as s:
                add_observations(s, farm_id, tank_id, done, user_id=user, observed_at=observed_at,
                                 job_id=job_id)  # fmt: skip
                await JobRepository(s).advance(job_id, len(done), len(chunk) - len(done))

    async def _finish(self, job_id: uuid.UUID, status: str, error: str | None) -> None:
        async with self.runtime.db.transaction() as s:
            job = await s.get(BatchJob, job_id)
            if job is None:
                return
            job.status, job.error, job.finished_at = status, error, utcnow()
            await enqueue(s, events.BATCH_FINISHED, events.BATCH_FINISHED.payload(
                job_id=job.id, farm_id=job.farm_id, tank_id=job.tank_id, images=job.total,
                status=status, processed=job.processed, failed=job.failed))  # fmt: skip

    async def sweep(self) -> int:
        """Re-queue running jobs whose progress stalled (their worker died); returns how many."""
        stale_before = utcnow() - timedelta(seconds=self.runtime.app_settings.job_stale_s)
        async with self.runtime.db.transaction() as s:
            stale = await JobRepository(s).stalled(stale_before)
            for job in stale:
                job.status = "queued"
                payload = events.BATCH_SUBMITTED.payload(
                    job_id=job.id, farm_id=job.farm_id, tank_id=job.tank_id, images=job.total
                )
                await enqueue(s, events.BATCH_SUBMITTED, payload)
            return len(stale)

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.runtime.app_settings.job_sweep_interval_s)
            try:
                if requeued := await self.sweep():
                    log.warning("re-queued %d stalled batch jobs", requeued)
            except Exception:
                # A failed sweep is retried at the next interval; the loop must survive it.
                log.exception("batch job sweep failed")

    async def start(self) -> None:
        """Start the sweep of stalled jobs (jobs themselves begin with their events)."""
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="aquaculture-job-sweep")

    async def stop(self) -> None:
        """Stop the sweep and cancel running jobs (the sweep elsewhere resumes them)."""
        tasks = [*self._tasks, *([self._sweeper] if self._sweeper else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def notify_finished(runtime: AquacultureRuntime, event: Event, session: AsyncSession) -> None:
    """E-mail the job's creator that the batch is done (or failed), with its counts."""
    done = events.BATCH_FINISHED.parse(event)
    job = await session.get(BatchJob, done.job_id)
    user = await session.get(User, job.created_by) if job and job.created_by else None
    if user is None or not user.is_active:
        return
    link = (f"{runtime.settings.public_url}/api/v1/farms/{done.farm_id}/observations"
            f"?tank_id={done.tank_id}")  # fmt: skip
    text = (
        f"Hello {user.username},\n\nyour batch of {done.images} images is {done.status}: "
        f"{done.processed} classified, {done.failed} failed.\n\nObservations: {link}\n"
    )
    await runtime.mailer.send(user.email, f"Aquaculture: batch {done.status}", text)


def register(runtime: AquacultureRuntime) -> BatchRunner:
    """Subscribe the batch consumers (running jobs stop with the runtime)."""
    runner = BatchRunner(runtime)
    runtime.events.subscribe(CONSUMER, [events.BATCH_SUBMITTED], runner.handle, prefetch=1)

    async def on_finished(event: Event, session: AsyncSession) -> None:
        await notify_finished(runtime, event, session)

    runtime.events.subscribe(NOTIFY_CONSUMER, [events.BATCH_FINISHED], on_finished)
    runtime.services.append(runner)
    return runner
