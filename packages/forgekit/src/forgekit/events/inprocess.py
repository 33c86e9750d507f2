"""The embedded event bus: the outbox table is the queue, handlers run in this process.

It gives the RabbitMQ bus's guarantees except durability on a broker: an event is handled
only if its transaction committed, at least once (a crash before the row is marked means a
redelivery), at most once in effect (the same idempotency records), with retries and backoff,
and a ``dead_letters`` row for a consumer that gave up.

A dispatcher claims a batch of due rows by setting ``available_at`` a lease ahead (another
dispatcher, or this one after a crash, picks the row up again only when the lease expires),
delivers each event to every matching consumer, then marks the row published — or schedules
the retry. Retrying an event re-runs only the consumers that failed: the others find their
idempotency record and skip.

Events enqueued while no process consumes (``start(consume=False)``, the CLI) wait in the
outbox for a process that does.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Insert, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db import Database
from forgekit.db.base import utcnow
from forgekit.events.bus import EventBus
from forgekit.events.consumer import deliver, retry_delay
from forgekit.events.envelope import Event, MalformedEventError
from forgekit.events.models import DeadLetter, OutboxMessage
from forgekit.events.relay import RelayLoop
from forgekit.settings import ForgeSettings

log = logging.getLogger("forgekit.events.inprocess")

#: How long a claimed row is hidden from other dispatchers while it is being handled.
LEASE_S = 60.0
#: Consumer name recorded on the dead letter of a row that is not a valid envelope.
MALFORMED_CONSUMER = "*"
_ERROR_MAX_CHARS = 2000


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    event_type: str
    payload: Any
    attempts: int


class InProcessEventBus(EventBus):
    """Dispatches outbox rows to in-process handlers (no broker)."""

    def __init__(self, settings: ForgeSettings, db: Database) -> None:
        super().__init__(settings, db)
        self._loop: RelayLoop | None = None
        self._stopping = False
        # Rows this process is handling: a lease that expires meanwhile must not make the
        # dispatcher start the same row a second time.
        self._active: set[uuid.UUID] = set()
        # SQLite has one writer: concurrent handler transactions would only queue for it.
        self._concurrency = 1 if db.is_sqlite else 8

    async def _start(self, *, consume: bool) -> None:
        if not consume or not self._subscriptions:
            log.info("in-process bus not consuming: events wait in the outbox")
            return
        self._stopping = False
        self._loop = RelayLoop(
            "inprocess-dispatcher",
            self._step,
            batch_size=self.settings.outbox_batch_size,
            poll_interval_s=self.settings.outbox_poll_interval_s,
        )
        self._loop.start()

    async def _stop(self, timeout_s: float) -> None:
        self._stopping = True
        if self._loop is not None:
            await self._loop.stop(timeout_s)
            self._loop = None

    async def delete_topology(self) -> None:
        """Nothing to delete: the in-process bus has no broker topology."""

    # Dispatch -------------------------------------------------------------------------------

    async def _claim(self) -> list[_Claimed]:
        now = utcnow()
        async with self.db.transaction() as session:
            stmt = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.published_at.is_(None),
                    or_(OutboxMessage.available_at.is_(None), OutboxMessage.available_at <= now),
                )
                .order_by(OutboxMessage.created_at)
                .limit(self.settings.outbox_batch_size)
            )
            if not self.db.is_sqlite:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = [r for r in (await session.execute(stmt)).scalars() if r.id not in self._active]
            lease_until = now + timedelta(seconds=LEASE_S)
            for row in rows:
                row.available_at = lease_until
            claimed = [_Claimed(r.id, r.event_type, r.payload, r.attempts) for r in rows]
        return claimed

    async def _step(self) -> int:
        claimed = await self._claim()
        if not claimed:
            return 0
        self._active.update(c.id for c in claimed)
        finished: set[uuid.UUID] = set()
        delivered: list[uuid.UUID] = []

        async def run(c: _Claimed, gate: asyncio.Semaphore) -> None:
            async with gate:
                if await self._dispatch(c):
                    delivered.append(c.id)
                finished.add(c.id)

        gate = asyncio.Semaphore(self._concurrency)
        try:
            if self._concurrency == 1:
                for c in claimed:
                    await run(c, gate)
            else:
                await asyncio.gather(*(run(c, gate) for c in claimed))
        except asyncio.CancelledError:
            # Stopped hard: hand unfinished rows back now instead of after the lease. A
            # handler cut short rolled back; one that had committed is skipped next time.
            unfinished = [c.id for c in claimed if c.id not in finished]
            if unfinished:
                await asyncio.shield(self._release(unfinished))
            raise
        finally:
            # Rows every consumer handled are marked in one statement per batch: a crash
            # before it only redelivers them, and the idempotency records skip the handlers.
            if delivered:
                await asyncio.shield(self._mark_published(delivered))
            self._active.difference_update(c.id for c in claimed)
        return len(claimed)

    async def _mark_published(self, ids: Sequence[uuid.UUID]) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(published_at=utcnow(), available_at=None, last_error=None)
            )

    async def _dispatch(self, row: _Claimed) -> bool:
        """Deliver one row to its consumers; True when all succeeded (caller marks it)."""
        if self._stopping:
            # Stopping: hand the row back at once rather than after the lease.
            await self._release([row.id])
            return False
        try:
            event = Event.from_dict(row.payload)
        except MalformedEventError as exc:
            log.error("outbox row %s is not a valid envelope, dead-lettered", row.id)
            await self._finish(row, {MALFORMED_CONSUMER: f"malformed envelope: {exc}"},
                               give_up=True)
            return False
        failures: dict[str, str] = {}
        for sub in self._subscriptions.values():
            if not sub.matches(event.type):
                continue
            self._inflight += 1
            try:
                await deliver(self.db, sub, event)
            except Exception as exc:
                failures[sub.name] = f"{type(exc).__name__}: {exc}"
            finally:
                self._inflight -= 1
        if not failures:
            return True
        give_up = row.attempts + 1 > self.settings.consumer_max_retries
        for name, error in failures.items():
            if give_up:
                log.error("consumer %s: event %s failed %d times, dead-lettered: %s",
                          name, event.id, row.attempts + 1, error)
            else:
                log.warning("consumer %s: event %s failed (attempt %d), will retry: %s",
                            name, event.id, row.attempts + 1, error)
        await self._finish(row, failures, give_up=give_up, event=event)
        return False

    async def _finish(
        self, row: _Claimed, failures: dict[str, str], *, give_up: bool,
        event: Event | None = None,
    ) -> None:
        now = utcnow()
        values: dict[str, Any]
        async with self.db.transaction() as session:
            if give_up:
                for consumer, error in failures.items():
                    await session.execute(
                        _dead_letter_stmt(session, consumer, row, error, event)
                    )
                values = {
                    "published_at": now,
                    "available_at": None,
                    "attempts": row.attempts + 1,
                    "last_error": _summary(failures),
                }
            else:
                delay = retry_delay(self.settings.consumer_retry_base_s, row.attempts)
                values = {
                    "available_at": now + timedelta(seconds=delay),
                    "attempts": row.attempts + 1,
                    "last_error": _summary(failures),
                }
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values)
            )

    async def _release(self, ids: Sequence[uuid.UUID]) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(available_at=None)
            )

    # Introspection --------------------------------------------------------------------------

    async def queue_depths(self) -> dict[str, int]:
        """Pending outbox events per consumer, and its dead letters as ``{name}.dlq``."""
        async with self.db.session() as session:
            pending = (
                await session.execute(
                    select(OutboxMessage.event_type, func.count())
                    .where(OutboxMessage.published_at.is_(None))
                    .group_by(OutboxMessage.event_type)
                )
            ).all()
            dead_rows = await session.execute(
                select(DeadLetter.consumer, func.count()).group_by(DeadLetter.consumer)
            )
            dead = {str(name): int(n) for name, n in dead_rows}
        depths: dict[str, int] = {}
        for sub in self._subscriptions.values():
            depths[sub.name] = sum(int(n) for t, n in pending if sub.matches(t))
            depths[f"{sub.name}.dlq"] = int(dead.get(sub.name, 0))
        return depths

    async def _is_idle(self) -> bool:
        if not self._consuming:
            # Nothing here will move the outbox; a consuming process will.
            return self._inflight == 0
        return await super()._is_idle()


def _summary(failures: dict[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in failures.items())[:_ERROR_MAX_CHARS]


def _dead_letter_stmt(
    session: AsyncSession, consumer: str, row: _Claimed, error: str, event: Event | None
) -> Insert:
    values = {
        "id": uuid.uuid4(),
        "consumer": consumer,
        "event_id": event.id if event is not None else row.id,
        "event_type": row.event_type,
        "payload": row.payload,
        "error": error[:_ERROR_MAX_CHARS],
        "attempts": row.attempts + 1,
        "created_at": utcnow(),
    }
    # A crash after this commit but before the dispatcher noticed would dead-letter twice.
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(DeadLetter).values(**values).on_conflict_do_nothing()
    return sqlite.insert(DeadLetter).values(**values).on_conflict_do_nothing()


async def dead_letters(db: Database, consumer: str | None = None) -> list[DeadLetter]:
    """Dead letters of the embedded bus, oldest first (all consumers, or one)."""
    async with db.session() as session:
        stmt = select(DeadLetter).order_by(DeadLetter.created_at)
        if consumer is not None:
            stmt = stmt.where(DeadLetter.consumer == consumer)
        return list((await session.execute(stmt)).scalars())


