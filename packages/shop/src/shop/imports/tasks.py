"""The import consumer (group ``imports``: ``shop worker --queues imports``; in-process with
the embedded defaults).

The handler claims the job (``queued`` -> ``running``) in the kit's delivery transaction, so a
redelivered event finds it claimed and does nothing, then runs it in a task of the worker
process: on the embedded SQLite database a transaction holds the only write lock, and checking
a large file inside the delivery transaction would stall the API. The job itself commits its
progress in slices and its result in one transaction (:mod:`shop.imports.service`); an error
marks it ``failed`` with the reason and imports nothing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import ProblemError
from forgekit.events import Event
from shop.events import IMPORT_REQUESTED
from shop.imports.models import ImportJob
from shop.imports.service import run_import

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
        job = await session.get(ImportJob, IMPORT_REQUESTED.parse(event).job_id)
        if job is None or job.status != "queued":
            return
        job.status = "running"
        task = asyncio.create_task(self._run_detached(job.id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wait_claimed(self, job_id: uuid.UUID) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLAIM_WAIT_S
        while loop.time() < deadline:
            async with self.runtime.db.session() as s:
                job = await s.get(ImportJob, job_id)
                if job is not None and job.status == "running":
                    return
            await asyncio.sleep(0.05)

    async def _run_detached(self, job_id: uuid.UUID) -> None:
        async with self._gate:
            await self._wait_claimed(job_id)
            try:
                rt = self.runtime
                await run_import(rt.db, rt.storage, rt.app_settings, job_id)
            except ProblemError as exc:
                await self._fail(job_id, exc.detail or exc.title)
            except Exception as exc:
                # Recorded on the job for its reader; the file will not heal on a retry.
                log.exception("import job %s failed", job_id)
                await self._fail(job_id, f"{type(exc).__name__}: {exc}")

    async def _fail(self, job_id: uuid.UUID, reason: str) -> None:
        async with self.runtime.db.transaction() as s:
            job = await s.get(ImportJob, job_id)
            if job is not None:
                job.status, job.error, job.finished_at = "failed", reason[:500], utcnow()

    async def start(self) -> None:
        """Nothing runs until an event arrives."""

    async def stop(self) -> None:
        """Cancel running jobs (they stay ``running``; see the README)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def register(runtime: Any) -> ImportRunner:
    """Subscribe the import consumer."""
    runner = ImportRunner(runtime)
    runtime.events.subscribe(CONSUMER, [IMPORT_REQUESTED], runner.handle, prefetch=1)
    runtime.services.append(runner)
    return runner
