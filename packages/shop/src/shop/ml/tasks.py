"""The ML services on every role: serving (API and worker), training jobs and the nightly
schedule (worker)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.events.envelope import Event
from forgekit.events.outbox import enqueue
from shop.ml.events import TRAIN_REQUESTED
from shop.ml.serving import MlServing
from shop.ml.settings import MlSettings
from shop.ml.training import repository

if TYPE_CHECKING:
    from shop.runtime import ShopRuntime

log = logging.getLogger("shop.ml")
CONSUMER = "ml.train"
_WHO = f"{socket.gethostname()}:{os.getpid()}"


class ServingService:
    """Loads the active model versions when the runtime starts (every role)."""

    consumer_group: str | None = None

    def __init__(self, runtime: ShopRuntime) -> None:
        self.runtime = runtime

    async def start(self) -> None:
        """Serve what the registry holds (nothing yet is fine: the endpoints answer 503)."""
        # The app's registry, so /metrics serves the scoring and drift metrics; a worker
        # (no app) keeps its own: it scores no orders.
        registry = self.runtime.metrics_registry or CollectorRegistry()
        serving = MlServing(self.runtime.db, self.runtime.storage, registry, self.runtime.cache)
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
            await self.fire(dt.datetime.now(dt.UTC).date().isoformat())

    async def fire(self, period: str) -> list[str]:
        """Emit the training jobs of ``period`` that no other worker has claimed yet; returns
        the kinds this process claimed.

        Every ML worker runs this timer; the claim row and its job event are written in one
        transaction, so each (kind, period) trains once however many workers fire.
        """
        claimed = []
        async with self.runtime.db.transaction() as session:
            for kind in self.settings.nightly_kinds:
                if await repository.claim_period(session, kind, period, _WHO):
                    payload = TRAIN_REQUESTED.payload(kind=kind, reason=f"nightly {period}")
                    await enqueue(session, TRAIN_REQUESTED, payload)
                    claimed.append(kind)
        if claimed:
            log.info("nightly %s: claimed %s", period, ", ".join(claimed))
        return claimed

    async def stop(self) -> None:
        """Cancel the timer."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class TrainingJobs:
    """Runs training jobs outside the event's transaction.

    Training takes seconds to a minute; holding the consumer's transaction that long would
    lock SQLite's single writer for the whole embedded app. The handler starts the job and
    returns; the job registers its run in its own transaction, keyed by the event id (unique),
    so a redelivered job is logged once. A job lost to a crash mid-training is rerun by the
    next request or the next night.
    """

    consumer_group: str | None = "ml"

    def __init__(self, runtime: ShopRuntime) -> None:
        self.runtime = runtime
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle(self, event: Event, session: AsyncSession) -> None:
        """Start the job named by a ``shop.ml.train.requested`` event."""
        from shop.ml.training.service import check_kind

        payload = TRAIN_REQUESTED.parse(event)
        task = asyncio.create_task(self.run(check_kind(payload.kind), str(event.id)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self, kind: str, job_id: str) -> None:
        """Train on the shop's data (the generator's when it holds too little), register."""
        from sqlalchemy.exc import IntegrityError

        from shop.ml.training.service import register
        from shop.ml.training.source import training_data
        from shop.ml.training.trainers import train

        async with self.runtime.db.session() as session:
            data = await training_data(session, kind, minimum=MlSettings().min_shop_rows)
        candidate = await asyncio.to_thread(train, kind, data)
        try:
            async with self.runtime.db.transaction() as session:
                run = await register(session, self.runtime.storage, candidate, data, job_id)
        except IntegrityError:
            log.info("training job %s was already logged", job_id)
            return
        log.info("trained %s v%s (job %s): %s", kind, run.version, job_id, run.outcome)

    async def start(self) -> None:
        """Nothing to start: jobs begin with their events."""

    async def stop(self) -> None:
        """Cancel running jobs (their events are already processed: see the class note)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


def register(runtime: ShopRuntime) -> ServingService:
    """Add serving, the training consumer and the nightly schedule to the runtime."""
    serving = ServingService(runtime)
    runtime.services.append(serving)

    jobs = TrainingJobs(runtime)
    runtime.services.append(jobs)
    runtime.events.subscribe(CONSUMER, [str(TRAIN_REQUESTED)], jobs.handle, prefetch=1)
    runtime.services.append(NightlySchedule(runtime, MlSettings()))
    return serving
