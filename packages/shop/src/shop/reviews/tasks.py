"""Review sentiment on the worker role (consumer group ``ml``: ``shop worker --queues ml``;
in-process with the embedded defaults).

``ml.sentiment`` scores a review when it is written or its text edited, in the kit's delivery
transaction (one short model call), so the kit's record of the event and the stored score
commit together: a redelivered event is skipped by the kit, and a repeat that gets past it
finds the review already scored by the active model and writes nothing. Without a promoted
model the review stays unscored, a warning says so, and the event counts as handled:
``shop sentiment score --unscored`` (or the job below) catches up once a model is trained.

``ml.sentiment-batch`` runs the batch job of a ``shop.ml.sentiment.score_requested`` event in a
task of the worker, outside the delivery transaction: it commits chunk by chunk, and holding
one transaction for the whole table would lock SQLite's only writer for as long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.events.envelope import Event
from shop.events import REVIEW_CREATED, REVIEW_EDITED, ReviewEvent
from shop.ml.events import SENTIMENT_SCORE_REQUESTED
from shop.reviews.sentiment import NoSentimentModel, Scope, score_batch, score_review

if TYPE_CHECKING:
    from shop.ml.serving import MlServing
    from shop.runtime import ShopRuntime

log = logging.getLogger("shop.reviews.sentiment")

CONSUMER = "ml.sentiment"
BATCH_CONSUMER = "ml.sentiment-batch"
#: How long a batch job waits for this process's ML serving to start.
READY_WAIT_S = 120.0


class ServingNotStarted(RuntimeError):
    """The consumer ran before the runtime's ML serving started: the kit retries the event."""


class SentimentConsumer:
    """Scores reviews as they are written (per event) and in batch (per job event)."""

    consumer_group: str | None = "ml"

    def __init__(self, runtime: ShopRuntime) -> None:
        self.runtime = runtime
        self._tasks: set[asyncio.Task[None]] = set()
        self._gate = asyncio.Semaphore(1)

    def _serving(self) -> MlServing:
        # The kit starts consumers before the runtime's services, so the first events can
        # arrive before serving has loaded the models (a worker restarting on a backlog);
        # raising hands them back to the kit's retry instead of leaving them unscored.
        if self.runtime.ml is None or not self.runtime.ml.ready:
            raise ServingNotStarted("the ML serving of this process has not started yet")
        return self.runtime.ml

    async def _ready_serving(self) -> MlServing:
        # A detached job holds no transaction, so it may wait for serving to start.
        deadline = asyncio.get_running_loop().time() + READY_WAIT_S
        while True:
            try:
                return self._serving()
            except ServingNotStarted:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.1)

    async def handle(self, event: Event, session: AsyncSession) -> None:
        """Score the review named by a ``shop.review.created`` / ``.edited`` event."""
        model = REVIEW_CREATED if event.type == str(REVIEW_CREATED) else REVIEW_EDITED
        payload: ReviewEvent = model.parse(event)
        outcome = await score_review(session, self._serving(), payload.review_id)
        log.debug("review %s: %s", payload.review_id, outcome.value)

    async def handle_job(self, event: Event, session: AsyncSession) -> None:
        """Start the batch job of a ``shop.ml.sentiment.score_requested`` event."""
        scope = SENTIMENT_SCORE_REQUESTED.parse(event).scope
        task = asyncio.create_task(self.run_batch(scope, str(event.id)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run_batch(self, scope: Scope, job_id: str) -> None:
        """Score the reviews of ``scope`` (one job at a time in this process)."""
        async with self._gate:
            try:
                serving = await self._ready_serving()
                scored, version = await score_batch(self.runtime.db, serving, scope)
            except NoSentimentModel:
                log.warning("sentiment job %s (%s): no sentiment model is promoted yet; "
                            "nothing scored", job_id, scope)  # fmt: skip
                return
            except Exception:
                # A job event is not redelivered once started (see the module note): log it.
                log.exception("sentiment job %s (%s) failed", job_id, scope)
                return
        log.info("sentiment job %s (%s): %d reviews scored with v%s",
                 job_id, scope, scored, version)  # fmt: skip

    async def start(self) -> None:
        """Nothing to start: work begins with events."""

    async def stop(self) -> None:
        """Cancel running batch jobs (chunks already committed stay scored)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


def register(runtime: ShopRuntime) -> SentimentConsumer:
    """Subscribe the review sentiment consumers."""
    consumer = SentimentConsumer(runtime)
    runtime.events.subscribe(CONSUMER, [REVIEW_CREATED, REVIEW_EDITED], consumer.handle)
    runtime.events.subscribe(
        BATCH_CONSUMER, [SENTIMENT_SCORE_REQUESTED], consumer.handle_job, prefetch=1
    )
    runtime.services.append(consumer)
    return consumer
