"""Subscriptions and the idempotent delivery of one event to one consumer.

Both buses deliver through :func:`deliver`: the idempotency record and the handler's effects
commit in one transaction, so an event redelivered after a crash, a lost ack or a duplicate
publish is recognised and skipped — exactly-once in effect on top of at-least-once delivery.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db import Database
from forgekit.db.base import utcnow
from forgekit.events.envelope import Event
from forgekit.events.models import ProcessedEvent
from forgekit.events.outbox import current_event
from forgekit.events.patterns import matches_any, validate_pattern

#: A consumer's handler: runs inside the delivery's transaction; raising rolls it back.
Handler = Callable[[Event, AsyncSession], Awaitable[None]]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

#: Longest wait between two attempts, whatever the retry count.
MAX_RETRY_DELAY_S = 300.0


@dataclass(frozen=True)
class Subscription:
    """A named consumer: its own queue, bound to ``patterns``, handled by ``handler``."""

    name: str
    patterns: tuple[str, ...]
    handler: Handler
    prefetch: int = 10
    #: Event types matching one of these are not for this consumer even when ``patterns``
    #: match (a topic binding cannot exclude, so the consumer drops them unhandled).
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"consumer name {self.name!r} must be lowercase [a-z0-9_.-]")
        if not self.patterns:
            raise ValueError(f"consumer {self.name!r} subscribes to no pattern")
        for pattern in (*self.patterns, *self.exclude):
            validate_pattern(pattern)
        if self.prefetch < 1:
            raise ValueError("prefetch must be at least 1")

    def matches(self, event_type: str) -> bool:
        """True when this consumer wants events of ``event_type``."""
        return matches_any(self.patterns, event_type) and not matches_any(
            self.exclude, event_type
        )


class Outcome(Enum):
    """What :func:`deliver` did with an event."""

    HANDLED = "handled"
    DUPLICATE = "duplicate"
    #: Excluded by the subscription: no transaction, no idempotency record, no effect.
    SKIPPED = "skipped"


def retry_delay(base_s: float, retries_done: int) -> float:
    """Exponential backoff: ``base * 2**retries_done``, capped at :data:`MAX_RETRY_DELAY_S`."""
    return float(min(MAX_RETRY_DELAY_S, base_s * (2 ** min(retries_done, 30))))


def _claim_stmt(session: AsyncSession, consumer: str, event: Event) -> Insert:
    values = {"consumer": consumer, "event_id": event.id, "processed_at": utcnow()}
    dialect = session.get_bind().dialect.name
    # ON CONFLICT DO NOTHING keeps the transaction usable on PostgreSQL (a failed INSERT would
    # abort it) and makes a concurrent duplicate wait for the first delivery's outcome.
    if dialect == "postgresql":
        pg = postgresql.insert(ProcessedEvent).values(**values)
        return pg.on_conflict_do_nothing(index_elements=["consumer", "event_id"]).returning(
            ProcessedEvent.consumer
        )
    lite = sqlite.insert(ProcessedEvent).values(**values)
    return lite.on_conflict_do_nothing(index_elements=["consumer", "event_id"]).returning(
        ProcessedEvent.consumer
    )


async def deliver(db: Database, subscription: Subscription, event: Event) -> Outcome:
    """Run ``subscription``'s handler for ``event`` at most once in effect.

    Opens a transaction, records (consumer, event id) — a record already there means the event
    was handled before and is skipped — runs the handler in the same transaction and commits.
    A handler error propagates after the rollback, leaving no record, so a retry runs again.
    An event the subscription excludes (delivered anyway by a broad topic binding) is skipped
    without touching the database.
    """
    if not subscription.matches(event.type):
        return Outcome.SKIPPED
    token = current_event.set(event)
    try:
        async with db.transaction() as session:
            stmt = _claim_stmt(session, subscription.name, event)
            claimed = (await session.execute(stmt)).first()
            if claimed is None:
                return Outcome.DUPLICATE
            await subscription.handler(event, session)
        return Outcome.HANDLED
    finally:
        current_event.reset(token)
