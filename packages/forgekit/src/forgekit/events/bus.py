"""The event bus interface (RabbitMQ and in-process implementations live beside it).

Producers never talk to the bus: they call :func:`forgekit.events.outbox.enqueue` in their
transaction. The bus relays committed outbox rows and runs the consumers registered with
:meth:`EventBus.subscribe`, on RabbitMQ when ``settings.amqp_url`` is set, else in-process.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import time
from collections.abc import Collection, Mapping
from typing import Any

from forgekit.db import Database
from forgekit.events.consumer import Handler, Subscription
from forgekit.events.envelope import Event
from forgekit.events.outbox import enqueue, outbox_stats, set_default_source
from forgekit.settings import ForgeSettings

log = logging.getLogger("forgekit.events")

#: How often :meth:`EventBus.drain` re-checks, and for how many consecutive idle checks.
_DRAIN_POLL_S = 0.05
_DRAIN_IDLE_CHECKS = 2


class EventBus(abc.ABC):
    """Relays the outbox and runs consumers; one per process, built by :func:`create_event_bus`."""

    def __init__(self, settings: ForgeSettings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._subscriptions: dict[str, Subscription] = {}
        self._started = False
        self._consuming = False
        # In-flight handler count, so drain() can tell "idle" from "between two messages".
        self._inflight = 0
        set_default_source(settings.app_name)

    # Registration ---------------------------------------------------------------------------

    def subscribe(
        self,
        name: str,
        patterns: list[str] | tuple[str, ...],
        handler: Handler,
        *,
        prefetch: int = 10,
        exclude: list[str] | tuple[str, ...] = (),
    ) -> Subscription:
        """Register consumer ``name`` for events whose type matches any of ``patterns``.

        ``handler(event, session)`` runs in a transaction that also records the event as
        processed by ``name``; it must be registered before :meth:`start`. On RabbitMQ the
        consumer owns the durable queue ``{events_queue_prefix}.{name}``. Event types matching
        ``exclude`` are never handled (nor recorded) by this consumer.
        """
        if self._started:
            raise RuntimeError("subscribe() must be called before start()")
        if name in self._subscriptions:
            raise ValueError(f"consumer {name!r} is already subscribed")
        sub = Subscription(name=name, patterns=tuple(patterns), handler=handler, prefetch=prefetch,
                           exclude=tuple(exclude))
        self._subscriptions[name] = sub
        return sub

    def keep_only(self, groups: Collection[str]) -> None:
        """Drop consumers outside ``groups`` (a consumer's group is its name up to the first dot).

        Lets a worker process run a subset of the consumers: ``pyforge worker --queues analysis``.
        """
        if self._started:
            raise RuntimeError("keep_only() must be called before start()")
        unknown = set(groups) - {name.split(".", 1)[0] for name in self._subscriptions}
        if unknown:
            raise ValueError(f"no consumers in group(s): {', '.join(sorted(unknown))}")
        self._subscriptions = {
            name: sub
            for name, sub in self._subscriptions.items()
            if name.split(".", 1)[0] in groups
        }

    @property
    def subscriptions(self) -> Mapping[str, Subscription]:
        """The registered consumers by name."""
        return dict(self._subscriptions)

    # Lifecycle ------------------------------------------------------------------------------

    async def start(self, *, consume: bool = False) -> None:
        """Start the outbox relay, and the consumers too when ``consume``.

        Never fails because the broker is down: the relay keeps retrying with backoff and the
        events wait, committed, in the outbox.
        """
        if self._started:
            raise RuntimeError("event bus already started")
        self._started = True
        self._consuming = consume
        await self._start(consume=consume)

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop consuming, let running handlers finish (up to ``timeout_s``), close connections."""
        if not self._started:
            return
        try:
            await self._stop(timeout_s)
        finally:
            self._started = False
            self._consuming = False

    @property
    def consuming(self) -> bool:
        """True while this bus runs consumers."""
        return self._consuming

    async def emit(
        self,
        event_type: str,
        payload: Mapping[str, Any],
        *,
        metadata: Mapping[str, Any] | None = None,
        schema_version: int = 1,
    ) -> Event:
        """Enqueue one event in its own transaction (for code that has no unit of work)."""
        async with self.db.transaction() as session:
            return await enqueue(
                session, event_type, payload, metadata=metadata, schema_version=schema_version
            )

    # Observability --------------------------------------------------------------------------

    async def outbox_stats(self) -> tuple[int, float]:
        """``(pending_count, oldest_age_s)`` of the outbox."""
        return await outbox_stats(self.db)

    async def ping(self) -> bool:
        """True when the transport answers (the in-process bus lives in the database)."""
        return True

    @abc.abstractmethod
    async def queue_depths(self) -> dict[str, int]:
        """Messages waiting per queue (main, retry and dead-letter queue of each consumer)."""

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Wait until the outbox is empty and, when consuming, every consumer is idle.

        Retries still waiting count as work, so after ``drain`` every event has been handled
        or dead-lettered. Raises ``TimeoutError`` when that does not happen in ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        idle_checks = 0
        while True:
            idle = await self._is_idle()
            idle_checks = idle_checks + 1 if idle else 0
            if idle_checks >= _DRAIN_IDLE_CHECKS:
                return
            if time.monotonic() > deadline:
                pending, _ = await self.outbox_stats()
                raise TimeoutError(
                    f"event bus not drained after {timeout_s}s: {pending} outbox rows pending, "
                    f"{self._inflight} handlers running, queues {await self._busy_queues()}"
                )
            await asyncio.sleep(_DRAIN_POLL_S)

    async def _is_idle(self) -> bool:
        pending, _ = await self.outbox_stats()
        if pending or self._inflight:
            return False
        return not await self._busy_queues()

    async def _busy_queues(self) -> dict[str, int]:
        return {}

    @abc.abstractmethod
    async def delete_topology(self) -> None:
        """Delete the broker's exchanges and this bus's queues (tests; no-op in-process)."""

    # Backend hooks --------------------------------------------------------------------------

    @abc.abstractmethod
    async def _start(self, *, consume: bool) -> None: ...

    @abc.abstractmethod
    async def _stop(self, timeout_s: float) -> None: ...
