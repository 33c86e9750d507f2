"""The upload janitor: expires uploads left open past their deadline (every role runs it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from modelhub.uploads.service import uploads

if TYPE_CHECKING:
    from modelhub.runtime import ModelhubRuntime

log = logging.getLogger("modelhub.uploads")


class UploadJanitor:
    """A background service: every ``upload_janitor_interval_s``, expire stale uploads."""

    consumer_group: str | None = None

    def __init__(self, runtime: ModelhubRuntime) -> None:
        self.runtime = runtime
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the loop."""
        self._task = asyncio.create_task(self._loop(), name="modelhub-upload-janitor")

    async def stop(self) -> None:
        """Stop the loop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def sweep(self) -> int:
        """Expire what is due now; returns how many uploads expired."""
        async with self.runtime.db.session() as session:
            return await uploads.expire_stale(session, self.runtime.storage)

    async def _loop(self) -> None:
        interval = self.runtime.app_settings.upload_janitor_interval_s
        while True:
            try:
                expired = await self.sweep()
                if expired:
                    log.info("expired %d uploads", expired)
            except Exception:
                # A failed sweep is retried at the next interval; the loop must survive it.
                log.exception("upload janitor sweep failed")
            await asyncio.sleep(interval)


def register(runtime: ModelhubRuntime) -> UploadJanitor:
    """Add the janitor to the runtime's background services."""
    janitor = UploadJanitor(runtime)
    runtime.services.append(janitor)
    return janitor
