"""The upload janitor: expires uploads left open past their deadline (every role runs it)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from forgekit.periodic import PeriodicJob
from modelhub.uploads.service import uploads

if TYPE_CHECKING:
    from modelhub.runtime import ModelhubRuntime

log = logging.getLogger("modelhub.uploads")


class UploadJanitor(PeriodicJob):
    """A background service: every ``upload_janitor_interval_s``, expire stale uploads."""

    consumer_group: str | None = None
    name = "modelhub-upload-janitor"

    def __init__(self, runtime: ModelhubRuntime) -> None:
        super().__init__(runtime.app_settings.upload_janitor_interval_s)
        self.runtime = runtime

    async def sweep(self) -> int:
        """Expire what is due now; returns how many uploads expired."""
        async with self.runtime.db.session() as session:
            return await uploads.expire_stale(session, self.runtime.storage)

    async def run_once(self) -> int:
        """One pass: :meth:`sweep`, logged."""
        expired = await self.sweep()
        if expired:
            log.info("expired %d uploads", expired)
        return expired


def register(runtime: ModelhubRuntime) -> UploadJanitor:
    """Add the janitor to the runtime's background services."""
    janitor = UploadJanitor(runtime)
    runtime.services.append(janitor)
    return janitor
