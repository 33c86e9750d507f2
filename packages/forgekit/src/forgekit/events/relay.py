"""The outbox relay: moves committed outbox rows to the broker, in order, with retries.

:class:`RelayLoop` is the scheduling shared by both buses (wake on commit, poll as fallback,
exponential backoff while the broker or database fails); :func:`publish_pending` is one
RabbitMQ relay step: claim a batch, publish it with confirms, mark what the broker confirmed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from forgekit.db import Database
from forgekit.db.base import utcnow
from forgekit.events.models import OutboxMessage
from forgekit.events.outbox import register_waker

log = logging.getLogger("forgekit.events.relay")

#: Longest pause between two attempts while the broker (or database) is failing.
MAX_BACKOFF_S = 30.0
_ERROR_MAX_CHARS = 2000


@dataclass(frozen=True)
class OutgoingMessage:
    """One outbox row as the publisher sees it: the raw envelope, never re-serialised."""

    id: str
    event_type: str
    body: bytes


#: Publishes a batch; returns, per message and in order, None or the error that kept it back.
Publisher = Callable[[Sequence[OutgoingMessage]], Awaitable[list[BaseException | None]]]


class RelayError(RuntimeError):
    """A relay step published only part of its batch (the rest is retried after a backoff)."""


class RelayLoop:
    """Runs ``step`` (returns rows processed) until stopped.

    A full batch means more work: run again at once. Otherwise wait for a commit that
    enqueued events (the outbox wakes us) or ``poll_interval_s``. A failing step backs off
    exponentially from ``poll_interval_s`` up to :data:`MAX_BACKOFF_S`.
    """

    def __init__(
        self,
        name: str,
        step: Callable[[], Awaitable[int]],
        *,
        batch_size: int,
        poll_interval_s: float,
    ) -> None:
        self.name = name
        self._step = step
        self._batch_size = batch_size
        self._poll = poll_interval_s
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.consecutive_failures = 0

    def start(self) -> None:
        """Start the loop as a background task."""
        self._task = asyncio.create_task(self._run(), name=f"forgekit-{self.name}")

    def wake(self) -> None:
        """Run a step now rather than at the next poll."""
        self._wake.set()

    async def stop(self, timeout_s: float) -> None:
        """Let the current step finish (up to ``timeout_s``), then end the loop."""
        self._stopping.set()
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _sleep(self, seconds: float, *, wakeable: bool) -> None:
        waits = [asyncio.ensure_future(self._stopping.wait())]
        if wakeable:
            waits.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def _run(self) -> None:
        unregister = register_waker(self._wake)
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    done = await self._step()
                except Exception as exc:  # keep relaying whatever failed; the rows wait
                    self.consecutive_failures += 1
                    delay = min(MAX_BACKOFF_S, self._poll * 2**min(self.consecutive_failures, 16))
                    log.warning(
                        "%s step failed (%s consecutive), retrying in %.2fs: %s",
                        self.name, self.consecutive_failures, delay, exc,
                    )
                    # A commit must not cut the backoff short, or an outage becomes a hot loop.
                    await self._sleep(delay, wakeable=False)
                    continue
                self.consecutive_failures = 0
                if done >= self._batch_size:
                    continue
                await self._sleep(self._poll, wakeable=True)
        finally:
            unregister()


async def publish_pending(db: Database, publish: Publisher, batch_size: int) -> int:
    """Publish up to ``batch_size`` unpublished rows, oldest first; returns how many.

    On PostgreSQL the batch is claimed ``FOR UPDATE SKIP LOCKED`` so several relays share the
    outbox without publishing a row twice; SQLite has a single writer anyway. Rows the broker
    confirmed are marked published in the same transaction; the others record the error and
    stay pending, and :class:`RelayError` makes the loop back off.
    """
    failed: list[BaseException] = []
    async with db.transaction() as session:
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.published_at.is_(None))
            .order_by(OutboxMessage.created_at)
            .limit(batch_size)
        )
        if not db.is_sqlite:
            stmt = stmt.with_for_update(skip_locked=True)
        rows = (await session.execute(stmt)).scalars().all()
        if not rows:
            return 0
        # The stored envelope goes out as-is: the relay is a pipe, and a row that is somehow
        # not a valid envelope reaches the consumers' dead-letter queues, not a relay crash.
        outgoing = [
            OutgoingMessage(
                id=str(row.id), event_type=row.event_type,
                body=json.dumps(row.payload, separators=(",", ":")).encode(),
            )
            for row in rows
        ]
        results = await publish(outgoing)
        now = utcnow()
        for row, error in zip(rows, results, strict=True):
            if error is None:
                row.published_at = now
                row.last_error = None
            else:
                row.attempts += 1
                row.last_error = f"{type(error).__name__}: {error}"[:_ERROR_MAX_CHARS]
                failed.append(error)
    if failed:
        raise RelayError(f"{len(failed)} of {len(rows)} events not confirmed: {failed[0]!r}")
    return len(rows)
