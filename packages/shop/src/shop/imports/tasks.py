"""The import consumer (group ``imports``: ``shop worker --queues imports``; in-process with
the embedded defaults) and the janitor that re-queues imports whose worker died.

The handler claims the job (``queued`` -> ``running``, one more attempt) in the kit's delivery
transaction, so a redelivered event finds it claimed and does nothing, then runs it in a task
of the worker process: on the embedded SQLite database a transaction holds the only write
lock, and checking a large file inside the delivery transaction would stall the API. The job
itself commits its progress in slices and its result in one transaction
(:mod:`shop.imports.service`); an error marks it ``failed`` with the reason and imports
nothing.

Because the delivery is acknowledged at the claim, a worker killed mid-run is not redelivered
by the bus: the run's heartbeat (``updated_at``, moved every fifth of ``SHOP_IMPORT_LEASE_S``
and by every progress commit) stops, and :class:`ImportJanitor` (the kit's
:class:`~forgekit.periodic.PeriodicJob`, in every process consuming ``imports``) queues the job
again through the outbox once the lease has passed. The attempt number fences every write, so
the import finishes once, whichever run gets there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import ProblemError
from forgekit.events import Event
from forgekit.periodic import PeriodicJob
from shop.events import IMPORT_REQUESTED
from shop.imports.models import ImportJob
from shop.imports.service import Superseded, claim, fenced, requeue_stale, run_import

log = logging.getLogger("shop.imports")

CONSUMER = "imports.catalogue"
#: How long a detached job waits for its claim to become visible.
CLAIM_WAIT_S = 30.0


class ImportRunner:
    """Claims one job per event and runs it in the background, one at a time."""

    consumer_group: str | None = "imports"

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self._gate = asyncio.Semaphore(1)
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle(self, event: Event, session: AsyncSession) -> None:
        """Claim the job (a job already claimed or finished is left alone)."""
        job_id = IMPORT_REQUESTED.parse(event).job_id
        attempt = await claim(session, job_id)
        if attempt is None:
            return
        task = asyncio.create_task(self._run_detached(job_id, attempt))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wait_claimed(self, job_id: uuid.UUID, attempt: int) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLAIM_WAIT_S
        while loop.time() < deadline:
            async with self.runtime.db.session() as s:
                job = await s.get(ImportJob, job_id)
                if job is None or job.attempts > attempt or job.status in ("done", "failed"):
                    return False
                if job.status == "running" and job.attempts == attempt:
                    return True
            await asyncio.sleep(0.05)
        # The claim never committed (the delivery rolled back): its redelivery claims again.
        return False

    async def _run_detached(self, job_id: uuid.UUID, attempt: int) -> None:
        async with self._gate:
            if not await self._wait_claimed(job_id, attempt):
                return
            heartbeat = asyncio.create_task(self._heartbeat(job_id, attempt))
            try:
                rt = self.runtime
                await run_import(rt.db, rt.storage, rt.app_settings, job_id, attempt)
            except Superseded:
                log.warning("import job %s: attempt %d was superseded, its result dropped",
                            job_id, attempt)  # fmt: skip
            except ProblemError as exc:
                await self._fail(job_id, attempt, exc.detail or exc.title)
            except Exception as exc:
                # Recorded on the job for its reader; the file will not heal on a retry.
                log.exception("import job %s failed", job_id)
                await self._fail(job_id, attempt, f"{type(exc).__name__}: {exc}")
            finally:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat

    async def _heartbeat(self, job_id: uuid.UUID, attempt: int) -> None:
        """Move the job's heartbeat while this attempt holds it (the janitor's lease)."""
        every = self.runtime.app_settings.import_lease_s / 5
        while True:
            await asyncio.sleep(every)
            try:
                async with self.runtime.db.transaction() as s:
                    if not await fenced(s, job_id, attempt):
                        return  # finished, or superseded: nothing to keep alive
            except Exception:
                # A missed beat is retried; only a lease's worth of them loses the job.
                log.warning("import job %s: heartbeat failed", job_id, exc_info=True)

    async def _fail(self, job_id: uuid.UUID, attempt: int, reason: str) -> None:
        async with self.runtime.db.transaction() as s:
            await fenced(s, job_id, attempt, status="failed", error=reason[:500],
                         finished_at=utcnow())  # fmt: skip

    async def start(self) -> None:
        """Nothing runs until an event arrives."""

    async def stop(self) -> None:
        """Cancel running jobs (they stay ``running``; the janitor re-queues them once their
        lease has passed)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class ImportJanitor(PeriodicJob):
    """Every ``SHOP_IMPORT_SWEEP_INTERVAL_S``, re-queue imports whose heartbeat is older than
    ``SHOP_IMPORT_LEASE_S`` (their worker died), or fail those claimed
    ``SHOP_IMPORT_MAX_ATTEMPTS`` times (:func:`shop.imports.service.requeue_stale`)."""

    consumer_group: str | None = "imports"
    name = "shop-import-janitor"

    def __init__(self, runtime: Any) -> None:
        super().__init__(runtime.app_settings.import_sweep_interval_s)
        self.runtime = runtime

    def enabled(self) -> bool:
        """Off with an interval of 0."""
        return self.interval_s > 0

    async def run_once(self) -> int:
        """One pass; how many jobs it moved."""
        settings = self.runtime.app_settings
        return await requeue_stale(self.runtime.db, settings.import_lease_s,
                                   settings.import_max_attempts)  # fmt: skip


def register(runtime: Any) -> ImportRunner:
    """Subscribe the import consumer and add the janitor."""
    runner = ImportRunner(runtime)
    runtime.events.subscribe(CONSUMER, [IMPORT_REQUESTED], runner.handle, prefetch=1)
    runtime.services.extend([runner, ImportJanitor(runtime)])
    return runner
