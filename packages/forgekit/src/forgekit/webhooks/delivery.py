"""The delivery loop: sends pending deliveries, records attempts, schedules retries.

Claiming sets a lease (``next_attempt_at`` ahead) under ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several worker processes share the log without sending a delivery twice at
once; a process that dies mid-attempt only delays it until the lease runs out (at-least-once:
receivers deduplicate on the delivery id header). Failed attempts are retried after an
exponentially growing, jittered delay while the delivery is younger than the maximum age.

The loop is generic over the product's tables (:mod:`forgekit.webhooks.models`): it is given
the product's :class:`~forgekit.webhooks.repository.DeliveryLogRepository` subclass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db import Database
from forgekit.db.base import utcnow
from forgekit.webhooks.channels import Channel, DeliveryJob
from forgekit.webhooks.models import DeliveryStatus
from forgekit.webhooks.outbound import AttemptResult
from forgekit.webhooks.repository import A, D, DeliveryLogRepository

log = logging.getLogger("forgekit.webhooks.delivery")

_BATCH = 50
_ERROR_MAX = 2000
_WAKE_KEY = "forgekit.webhooks.wake_hook"
#: Jitter only spreads retries out; it needs no cryptographic randomness.
_JITTER = random.Random()  # noqa: S311


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with "equal jitter", bounded by a maximum delivery age.

    The n-th retry waits between half and all of ``min(max_s, base_s * 2**(n-1))``: the
    jitter spreads receivers' recovery load, and the guaranteed half keeps the backoff real.
    """

    base_s: float
    max_s: float
    max_age_s: float

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        cap = min(self.max_s, self.base_s * float(2 ** min(max(attempt - 1, 0), 40)))
        return cap / 2 + (rng or _JITTER).uniform(0.0, cap / 2)


class DeliveryLoop(Generic[D, A]):
    """Background service running the delivery loop (a :class:`forgekit.runtime.
    BackgroundService`, started in processes that consume ``consumer_group``)."""

    def __init__(
        self,
        db: Database,
        log_repository: type[DeliveryLogRepository[D, A]],
        channels: Mapping[str, Channel],
        policy: RetryPolicy,
        *,
        consumer_group: str | None,
        poll_interval_s: float,
        concurrency: int,
        lease_s: float,
    ) -> None:
        self.db = db
        self.log_repository = log_repository
        self.consumer_group = consumer_group
        self.channels = dict(channels)
        self.policy = policy
        self.poll_interval_s = poll_interval_s
        self.lease_s = lease_s
        self._gate = asyncio.Semaphore(max(1, concurrency))
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._rng = _JITTER

    # Lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the loop."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="webhook-delivery")

    async def stop(self) -> None:
        """Stop the loop (an attempt cut short is retried after its lease) and the channels."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for channel in self.channels.values():
            await channel.aclose()

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll."""
        if self._wake is None or self._loop is None or self._loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    def wake_after_commit(self, session: AsyncSession) -> None:
        """Wake the loop once ``session`` commits (the deliveries it added become visible)."""
        sync = session.sync_session
        if sync.info.get(_WAKE_KEY):
            return
        sync.info[_WAKE_KEY] = True

        def on_commit(_session: object) -> None:
            sync.info.pop(_WAKE_KEY, None)
            self.wake()

        sa_event.listen(sync, "after_commit", on_commit, once=True)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                handled = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A database hiccup must not end the loop; the next poll tries again.
                log.exception("delivery loop step failed")
                handled = 0
            if handled >= _BATCH:
                continue
            # ``asyncio.timeout``, not ``wait_for``: on Python 3.11 the latter can swallow a
            # cancellation (stop) that arrives as the wake-up does, and stop would then hang.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval_s):
                    await self._wake.wait()

    # One step -------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim the due deliveries and attempt each once; returns how many were claimed."""
        now = utcnow()
        async with self.db.transaction() as session:
            ids = await self.log_repository(session).claim_due(
                now, now + timedelta(seconds=self.lease_s), _BATCH,
                skip_locked=not self.db.is_sqlite,
            )
        if ids:
            await asyncio.gather(*(self._attempt_gated(i) for i in ids))
        return len(ids)

    async def _attempt_gated(self, delivery_id: uuid.UUID) -> None:
        async with self._gate:
            try:
                await self.attempt(delivery_id)
            except Exception:
                # Left pending under its lease: retried when the lease expires.
                log.exception("delivery %s: attempt could not be recorded", delivery_id)

    async def attempt(self, delivery_id: uuid.UUID) -> None:
        """Attempt one delivery now and record the outcome."""
        repo = self.log_repository
        async with self.db.session() as session:
            delivery = await session.get(repo.delivery_model, delivery_id)
            if delivery is None or delivery.status != DeliveryStatus.PENDING.value:
                return
            webhook = (
                await session.get(repo.endpoint_model, delivery.webhook_id)
                if delivery.webhook_id is not None
                else None
            )
            job = DeliveryJob(
                id=delivery.id,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                channel=delivery.channel,
                attempt=delivery.attempt_count + 1,
                target=delivery.target,
                body=delivery.body,
                webhook_url=webhook.url if webhook is not None and webhook.active else None,
                webhook_secret_encrypted=(
                    webhook.secret_encrypted if webhook is not None and webhook.active else None
                ),
            )
            created_at = delivery.created_at
        age = (utcnow() - created_at).total_seconds()
        if age > self.policy.max_age_s:
            await self._expire(delivery_id, job.attempt - 1)
            return
        channel = self.channels.get(job.channel)
        if channel is None:
            result = AttemptResult.failure(f"unknown channel {job.channel!r}", retryable=False)
        else:
            try:
                result = await channel.send(job)
            except Exception as exc:
                # A bug in a channel is logged and retried like a transient failure.
                log.exception("channel %s failed on delivery %s", job.channel, delivery_id)
                result = AttemptResult.failure(f"{type(exc).__name__}: {exc}", retryable=True)
        await self._record(delivery_id, job.attempt, result)

    async def _record(self, delivery_id: uuid.UUID, number: int, result: AttemptResult) -> None:
        now = utcnow()
        async with self.db.transaction() as session:
            repo = self.log_repository(session)
            delivery = await session.get(repo.delivery_model, delivery_id)
            if delivery is None:
                return  # its webhook was deleted meanwhile
            attempt = repo.add_attempt(delivery_id, number, now)
            attempt.status_code = result.status_code
            attempt.latency_ms = result.latency_ms
            attempt.error = (result.error or None) and result.error[:_ERROR_MAX]
            attempt.response_excerpt = result.response_excerpt
            delivery.attempt_count = number
            if result.ok:
                delivery.status = DeliveryStatus.SUCCEEDED.value
                delivery.completed_at = now
                delivery.next_attempt_at = None
                delivery.last_error = None
                return
            error = (result.error or "failed")[:_ERROR_MAX]
            delivery.last_error = error
            if result.retryable:
                delay = self.policy.delay(number, self._rng)
                if result.retry_after_s is not None:
                    delay = max(delay, result.retry_after_s)
                next_at = now + timedelta(seconds=delay)
                if (next_at - delivery.created_at).total_seconds() <= self.policy.max_age_s:
                    delivery.next_attempt_at = next_at
                    log.info("delivery %s attempt %d failed (%s); retry in %.1fs",
                             delivery_id, number, error, delay)
                    return
                delivery.last_error = f"gave up after {number} attempts: {error}"[:_ERROR_MAX]
            delivery.status = DeliveryStatus.FAILED.value
            delivery.completed_at = now
            delivery.next_attempt_at = None
            log.warning("delivery %s failed: %s", delivery_id, delivery.last_error)

    async def _expire(self, delivery_id: uuid.UUID, attempts: int) -> None:
        async with self.db.transaction() as session:
            delivery = await session.get(self.log_repository.delivery_model, delivery_id)
            if delivery is None or delivery.status != DeliveryStatus.PENDING.value:
                return
            delivery.status = DeliveryStatus.FAILED.value
            delivery.completed_at = utcnow()
            delivery.next_attempt_at = None
            delivery.last_error = (
                f"expired after {attempts} attempts: {delivery.last_error or 'not delivered'}"
            )[:_ERROR_MAX]
