"""The ML services on every role: serving (API and worker), training jobs and the nightly
schedule (worker)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.events.envelope import Event
from shop.ml.events import TRAIN_REQUESTED
from shop.ml.serving import MlServing
from shop.ml.settings import MlSettings

if TYPE_CHECKING:
    from shop.runtime import ShopRuntime

log = logging.getLogger("shop.ml")
CONSUMER = "ml.train"


class ServingService:
    """Loads the active model versions when the runtime starts (every role)."""

    consumer_group: str | None = None

    def __init__(self, runtime: ShopRuntime) -> None:
        self.runtime = runtime

    async def start(self) -> None:
        """Serve what the registry holds (nothing yet is fine: the endpoints answer 503)."""
        serving = MlServing(self.runtime.db, self.runtime.storage, CollectorRegistry())
        self.runtime.ml = serving
        await serving.refresh(force=True)

    async def stop(self) -> None:
        """Stop the batchers."""
        if self.runtime.ml is not None:
            await self.runtime.ml.close()
            self.runtime.ml = None


def seconds_until(at: str, now: dt.datetime) -> float:
    """Seconds from ``now`` (UTC) to the next ``HH:MM`` UTC."""
    hour, minute = (int(x) for x in at.split(":"))
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= now:
        target += dt.timedelta(days=1)
    return (target - now).total_seconds()


class NightlySchedule:
    """On the worker that trains, emits one training job per kind at ``SHOP_ML_NIGHTLY_AT``."""

    consumer_group: str | None = "ml"

    def __init__(self, runtime: ShopRuntime, settings: MlSettings) -> None:
        self.runtime, self.settings = runtime, settings
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the timer (nothing when no time is configured)."""
        if self.settings.nightly_at:
            self._task = asyncio.create_task(self._loop(), name="shop-ml-nightly")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(seconds_until(self.settings.nightly_at, dt.datetime.now(dt.UTC)))
            for kind in self.settings.nightly_kinds:
                payload = TRAIN_REQUESTED.payload(kind=kind, reason="nightly").model_dump()
                await self.runtime.events.emit(TRAIN_REQUESTED, payload)

    async def stop(self) -> None:
        """Cancel the timer."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def handle_train(runtime: ShopRuntime, event: Event, session: AsyncSession) -> None:
    """Run one training job (synthetic data until part 1's tables feed the trainers)."""
    from shop.ml.training.data import synthetic
    from shop.ml.training.service import check_kind, run_training

    payload = TRAIN_REQUESTED.parse(event)
    kind = check_kind(payload.kind)
    data = await asyncio.to_thread(synthetic, kind)
    # The run and the version commit with the event's processed mark: at-least-once delivery
    # never registers one job twice. Serving processes pick the new version up on refresh.
    run = await run_training(session, runtime.storage, kind, data)
    log.info("trained %s v%s (%s): %s", kind, run.version, payload.reason, run.outcome)


def register(runtime: ShopRuntime) -> ServingService:
    """Add serving, the training consumer and the nightly schedule to the runtime."""
    serving = ServingService(runtime)
    runtime.services.append(serving)

    async def on_train(event: Event, session: AsyncSession) -> None:
        await handle_train(runtime, event, session)

    runtime.events.subscribe(CONSUMER, [str(TRAIN_REQUESTED)], on_train, prefetch=1)
    runtime.services.append(NightlySchedule(runtime, MlSettings()))
    return serving
