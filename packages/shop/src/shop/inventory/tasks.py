"""The job that expires unpaid orders and releases their reservations, every
``SHOP_RESERVATION_SWEEP_INTERVAL_S`` seconds in each API and worker process (concurrent
sweeps are safe: every step is a conditional update)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from forgekit.db.base import utcnow
from shop.orders.service import orders

log = logging.getLogger("shop.inventory.sweep")


@dataclass
class ReservationSweep:
    """A background loop calling :meth:`OrderService.expire_due`."""

    runtime: Any
    consumer_group: str | None = None
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def sweep_once(self) -> int:
        """Expire what is due now; returns how many orders expired."""
        async with self.runtime.db.session() as session:
            return await orders.expire_due(session, utcnow())

    async def _loop(self) -> None:
        interval = self.runtime.app_settings.reservation_sweep_interval_s
        while True:
            try:
                expired = await self.sweep_once()
                if expired:
                    log.info("expired %d unpaid orders", expired)
            except Exception:
                # The next round retries; a database blip must not end the job.
                log.exception("reservation sweep failed")
            await asyncio.sleep(interval)

    async def start(self) -> None:
        """Start the loop."""
        self._task = asyncio.create_task(self._loop(), name="shop-reservation-sweep")

    async def stop(self) -> None:
        """Stop the loop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def register(runtime: Any) -> None:
    """Run the sweep in this process."""
    runtime.services.append(ReservationSweep(runtime))
