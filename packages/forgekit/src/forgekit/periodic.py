"""A background service that runs one pass of work every interval (janitors, reconcilers).

Subclasses implement :meth:`PeriodicJob.run_once`; a failed pass is logged and retried at the
next interval, so the loop outlives a database or storage outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger("forgekit.periodic")


class PeriodicJob:
    """Runs :meth:`run_once` at start-up (after ``first_delay_s``) and every ``interval_s``."""

    #: The runtime starts it only in processes consuming this group (None: every process).
    consumer_group: str | None = None
    #: The task's name, in logs and in ``asyncio`` task dumps.
    name: str = "periodic-job"

    def __init__(self, interval_s: float, *, first_delay_s: float = 0.0) -> None:
        self.interval_s, self.first_delay_s = interval_s, first_delay_s
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> object:
        """One pass of the job (subclasses)."""
        raise NotImplementedError

    def enabled(self) -> bool:
        """False to keep the job off (a setting of 0, say)."""
        return True

    async def _loop(self) -> None:
        delay = self.first_delay_s
        while True:
            await asyncio.sleep(delay)
            delay = self.interval_s
            try:
                await self.run_once()
            except Exception:
                # The next pass retries; a failed one must not stop the process.
                log.exception("%s pass failed", self.name)

    async def start(self) -> None:
        """Start the loop (when :meth:`enabled`)."""
        if self.enabled():
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        """Stop the loop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
