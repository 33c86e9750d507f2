"""The transactional outbox: events are rows written in the producer's own transaction.

An event is published if and only if the change that caused it commits: :func:`enqueue` adds
the row to the caller's session and the caller commits (or rolls back) both together. A relay
publishes committed rows afterwards, so a broker outage delays events but never loses them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from forgekit.db import Database
from forgekit.db.base import utcnow
from forgekit.events.envelope import Event
from forgekit.events.models import OutboxMessage, ProcessedEvent
from forgekit.observability.context import get_request_id

#: The event a consumer is handling right now; events enqueued by its handler inherit its
#: correlation id and name it as their cause.
current_event: ContextVar[Event | None] = ContextVar("forge_current_event", default=None)

_SESSION_HOOK_KEY = "forgekit.events.outbox_hook"

# Name of the emitting app, stamped as ``metadata["source"]``; the bus sets it from settings.
_default_source: str | None = None


def set_default_source(source: str | None) -> None:
    """Name the app that emits events in this process (``metadata["source"]``)."""
    global _default_source
    _default_source = source

# Relays running in this process register a callback here; a commit that wrote outbox rows
# calls them so the relay publishes at once instead of at its next poll.
_wakers: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}


def register_waker(wake: asyncio.Event) -> Callable[[], None]:
    """Have ``wake`` set after every commit that enqueued events; returns the unregister call."""
    key = id(wake)
    _wakers[key] = (asyncio.get_running_loop(), wake)

    def unregister() -> None:
        _wakers.pop(key, None)

    return unregister


def _wake_relays(_session: Session) -> None:
    for loop, wake in list(_wakers.values()):
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        elif not loop.is_closed():
            # A commit in another thread or loop (a sync worker, a test's second loop).
            loop.call_soon_threadsafe(wake.set)


def _default_metadata(given: Mapping[str, Any] | None, event_id: uuid.UUID) -> dict[str, Any]:
    metadata: dict[str, Any] = dict(given or {})
    if _default_source is not None:
        metadata.setdefault("source", _default_source)
    request_id = get_request_id()
    if request_id is not None:
        metadata.setdefault("request_id", request_id)
    cause = current_event.get()
    if cause is not None:
        metadata.setdefault("causation_id", str(cause.id))
        if cause.correlation_id is not None:
            metadata.setdefault("correlation_id", cause.correlation_id)
        if cause.actor_id is not None:
            metadata.setdefault("actor_id", cause.actor_id)
    # A chain's first event starts the correlation: the request that caused it, else itself.
    metadata.setdefault("correlation_id", metadata.get("request_id") or str(event_id))
    return metadata


async def enqueue(
    session: AsyncSession,
    event_type: str,
    payload: Mapping[str, Any] | BaseModel,
    *,
    metadata: Mapping[str, Any] | None = None,
    schema_version: int = 1,
) -> Event:
    """Add an event to the outbox in ``session``; it is published once the caller commits.

    ``payload`` is a mapping of JSON values or the event type's payload model (see
    :class:`forgekit.events.types.EventType`), dumped as JSON.

    ``metadata`` is completed with the current request id, and inside a consumer with the
    correlation id, actor and cause of the event being handled. Nothing is flushed here, so the
    call is cheap inside a larger unit of work; a rollback discards the event with the rest.
    """
    event_id = uuid.uuid4()
    envelope = Event(
        id=event_id,
        type=str(event_type),
        payload=(
            payload.model_dump(mode="json") if isinstance(payload, BaseModel) else dict(payload)
        ),
        metadata=_default_metadata(metadata, event_id),
        schema_version=schema_version,
    )
    session.add(
        OutboxMessage(
            id=envelope.id,
            event_type=envelope.type,
            payload=envelope.to_dict(),
            created_at=envelope.timestamp,
            attempts=0,
        )
    )
    sync_session = session.sync_session
    if not sync_session.info.get(_SESSION_HOOK_KEY):
        sync_session.info[_SESSION_HOOK_KEY] = True
        event.listen(sync_session, "after_commit", _wake_relays)
    return envelope


async def outbox_stats(db: Database) -> tuple[int, float]:
    """``(pending_count, oldest_age_s)`` of unpublished events: the relay's lag, for metrics."""
    async with db.session() as session:
        row = (
            await session.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.published_at.is_(None)
                )
            )
        ).one()
    count, oldest = int(row[0] or 0), row[1]
    if oldest is None:
        return count, 0.0
    if isinstance(oldest, str):  # SQLite returns aggregates untyped
        oldest = datetime.fromisoformat(oldest)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=utcnow().tzinfo)
    return count, max(0.0, (utcnow() - oldest).total_seconds())


async def purge_published(db: Database, older_than_s: float) -> int:
    """Delete published outbox rows and idempotency records older than ``older_than_s``.

    Keep the window longer than any redelivery can take (days), or a very late duplicate
    would be handled twice.
    """
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    async with db.transaction() as session:
        outbox = await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.published_at.is_not(None), OutboxMessage.published_at < cutoff
            )
        )
        processed = await session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.processed_at < cutoff)
        )
    return int(getattr(outbox, "rowcount", 0) or 0) + int(getattr(processed, "rowcount", 0) or 0)
