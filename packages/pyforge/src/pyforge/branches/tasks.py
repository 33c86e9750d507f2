"""The branch retention job: a periodic purge of old branch and pull-request analyses.

Every ``PYFORGE_BRANCH_RETENTION_INTERVAL_S`` seconds each process deletes the analyses of
non-default branches older than ``PYFORGE_BRANCH_RETENTION_DAYS`` and the branches not analysed
since (``branch.deleted`` with reason ``retention``). Passes in several processes at once are
harmless: a row deleted by one is simply not found by the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from forgekit.db.base import utcnow
from pyforge.branches import service

if TYPE_CHECKING:
    from pyforge.runtime import PyForgeRuntime

log = logging.getLogger("pyforge.branches")


class BranchRetention:
    """A background service of the runtime that purges old branch analyses periodically."""

    #: Runs where analyses run (workers, and the API in embedded mode), not in every process.
    consumer_group: str | None = "analysis"

    def __init__(self, runtime: PyForgeRuntime) -> None:
        self.runtime = runtime
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> service.Purged:
        """One retention pass (committed, and the purged analyses dropped from the cache)."""
        days = self.runtime.app_settings.branch_retention_days
        async with self.runtime.db.transaction() as session:
            purged = await service.purge(session, utcnow() - timedelta(days=days))
        await service.forget(self.runtime.cache, purged.analyses)
        if purged.analyses or purged.branches:
            log.info("retention purged %d branch analyses and %d branches",
                     len(purged.analyses), purged.branches)  # fmt: skip
        return purged

    async def _loop(self) -> None:
        interval = self.runtime.app_settings.branch_retention_interval_s
        while True:
            try:
                await self.run_once()
            except Exception:
                # The next pass retries; a failed purge must not stop the process.
                log.warning("branch retention pass failed", exc_info=True)
            await asyncio.sleep(interval)

    async def start(self) -> None:
        """Start the periodic purge (off when the retention age is 0)."""
        if self.runtime.app_settings.branch_retention_days > 0:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop the periodic purge."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def register(runtime: PyForgeRuntime) -> BranchRetention:
    """Add the retention job to the runtime's background services."""
    job = BranchRetention(runtime)
    runtime.services.append(job)
    return job
