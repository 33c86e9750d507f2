"""The branch retention job: a periodic purge of old branch and pull-request analyses.

Every ``PYFORGE_BRANCH_RETENTION_INTERVAL_S`` seconds each process deletes the analyses of
non-default branches older than ``PYFORGE_BRANCH_RETENTION_DAYS`` and the branches not analysed
since (``branch.deleted`` with reason ``retention``). Passes in several processes at once are
harmless: a row deleted by one is simply not found by the other.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from forgekit.db.base import utcnow
from forgekit.periodic import PeriodicJob
from pyforge.branches import service

if TYPE_CHECKING:
    from pyforge.runtime import PyForgeRuntime

log = logging.getLogger("pyforge.branches")


class BranchRetention(PeriodicJob):
    """A background service of the runtime that purges old branch analyses periodically."""

    #: Runs where analyses run (workers, and the API in embedded mode), not in every process.
    consumer_group: str | None = "analysis"
    name = "branch-retention"

    def __init__(self, runtime: PyForgeRuntime) -> None:
        super().__init__(runtime.app_settings.branch_retention_interval_s)
        self.runtime = runtime

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

    def enabled(self) -> bool:
        """Off when the retention age is 0."""
        return self.runtime.app_settings.branch_retention_days > 0


def register(runtime: PyForgeRuntime) -> BranchRetention:
    """Add the retention job to the runtime's background services."""
    job = BranchRetention(runtime)
    runtime.services.append(job)
    return job
