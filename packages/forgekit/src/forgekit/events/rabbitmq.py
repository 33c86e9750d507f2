"""The event bus on RabbitMQ: outbox relay with publisher confirms, durable consumer queues.

Topology, for exchange ``E`` (``settings.effective_events_exchange``) and each consumer ``Q`` =
``{events_queue_prefix}.{name}``:

- ``E``: durable topic exchange; every event is published with its type as routing key.
- ``Q``: durable queue bound to ``E`` with the consumer's patterns; its dead-letter exchange
  is ``E.dlx`` (routing key ``Q``).
- ``Q.retry``: holds failed messages for their backoff (per-message TTL), then dead-letters
  them back to ``Q`` through the default exchange; ``x-retry-count`` counts the retries.
- ``Q.dlq``: bound to the direct exchange ``E.dlx``; receives messages that failed
  ``consumer_max_retries`` retries or are not valid envelopes, with ``x-error`` saying why.

A single retry queue with per-message TTL means a message only expires once it reaches the
head of the queue: a short backoff can wait behind a longer one. That delays retries, never
loses them, and keeps one retry queue per consumer instead of one per backoff step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
    ConsumerTag,
)

from forgekit.db import Database
from forgekit.events.bus import EventBus
from forgekit.events.consumer import Subscription, deliver, retry_delay
from forgekit.events.envelope import Event, MalformedEventError
from forgekit.events.relay import OutgoingMessage, RelayLoop, publish_pending
from forgekit.settings import ForgeSettings

log = logging.getLogger("forgekit.events.rabbitmq")

RETRY_HEADER = "x-retry-count"
ERROR_HEADER = "x-error"
_ERROR_HEADER_MAX = 1000
_CONSUMER_SETUP_BACKOFF_MAX_S = 30.0


class _Consumer:
    """The live state of one subscription: its channel, queue and consumer tag."""

    def __init__(
        self, sub: Subscription, channel: AbstractChannel, queue: AbstractQueue,
        dlx: AbstractExchange,
    ) -> None:
        self.sub, self.channel, self.queue, self.dlx = sub, channel, queue, dlx
        self.tag: ConsumerTag | None = None


class RabbitMQEventBus(EventBus):
    """Relays the outbox to a RabbitMQ topic exchange and consumes per-consumer queues."""

    def __init__(
        self,
        settings: ForgeSettings,
        db: Database,
        *,
        publish_timeout_s: float = 10.0,
        reconnect_interval_s: float = 1.0,
    ) -> None:
        super().__init__(settings, db)
        self.url = settings.amqp_url
        self.exchange_name = settings.effective_events_exchange
        self.dlx_name = f"{settings.effective_events_exchange}.dlx"
        self._publish_timeout = publish_timeout_s
        self._reconnect_interval = reconnect_interval_s
        self._relay: RelayLoop | None = None
        self._pub_lock = asyncio.Lock()
        self._pub_conn: AbstractRobustConnection | None = None
        self._pub_exchange: AbstractExchange | None = None
        self._con_conn: AbstractRobustConnection | None = None
        self._consumers: list[_Consumer] = []
        self._setup_task: asyncio.Task[None] | None = None
        self._consumers_ready = asyncio.Event()
        self._admin_conn: AbstractConnection | None = None
        self._handler_tasks: set[asyncio.Task[Any]] = set()

    # Names ----------------------------------------------------------------------------------

    def queue_name(self, consumer: str) -> str:
        """The main queue of consumer ``consumer``."""
        return f"{self.settings.effective_events_queue_prefix}.{consumer}"

    def queue_names(self, consumer: str) -> tuple[str, str, str]:
        """Main, retry and dead-letter queue of ``consumer``."""
        q = self.queue_name(consumer)
        return q, f"{q}.retry", f"{q}.dlq"

    # Connections and topology ---------------------------------------------------------------

    async def _connect(self, role: str) -> AbstractRobustConnection:
        return await aio_pika.connect_robust(
            self.url,
            reconnect_interval=self._reconnect_interval,
            timeout=self._publish_timeout,
            client_properties={"connection_name": f"{self.settings.app_name}-{role}"},
        )

    async def _declare(
        self, channel: AbstractChannel, sub: Subscription | None = None
    ) -> tuple[AbstractExchange, AbstractExchange, AbstractQueue | None]:
        exchange = await channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        dlx = await channel.declare_exchange(
            self.dlx_name, aio_pika.ExchangeType.DIRECT, durable=True
        )
        if sub is None:
            return exchange, dlx, None
        main, retry, dead = self.queue_names(sub.name)
        queue = await channel.declare_queue(
            main,
            durable=True,
            arguments={"x-dead-letter-exchange": self.dlx_name, "x-dead-letter-routing-key": main},
        )
        for pattern in sub.patterns:
            await queue.bind(exchange, routing_key=pattern)
        await channel.declare_queue(
            retry,
            durable=True,
            arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": main},
        )
        dlq = await channel.declare_queue(dead, durable=True)
        await dlq.bind(dlx, routing_key=main)
        return exchange, dlx, queue

    # Relay ----------------------------------------------------------------------------------

    async def _publisher(self) -> AbstractExchange:
        async with self._pub_lock:
            if self._pub_exchange is not None:
                return self._pub_exchange
            conn = await self._connect("relay")
            try:
                channel = await conn.channel(publisher_confirms=True)
                exchange, _, _ = await self._declare(channel)
                # Declaring the consumers' queues before the first publish means no event is
                # dropped as unroutable because its worker has not started yet.
                for sub in self._subscriptions.values():
                    await self._declare(channel, sub)
            except BaseException:
                await conn.close()
                raise
            self._pub_conn, self._pub_exchange = conn, exchange
            return exchange

    async def _publish_batch(
        self, messages: Sequence[OutgoingMessage]
    ) -> list[BaseException | None]:
        exchange = await self._publisher()

        async def publish_one(m: OutgoingMessage) -> None:
            message = aio_pika.Message(
                body=m.body,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=m.id,
                type=m.event_type,
                app_id=self.settings.app_name,
            )
            # With publisher confirms this returns once the broker has the message
            # (persisted to disk for durable queues); a nack raises DeliveryError.
            await exchange.publish(
                message, routing_key=m.event_type, mandatory=False, timeout=self._publish_timeout
            )

        results = await asyncio.gather(*(publish_one(m) for m in messages), return_exceptions=True)
        return [r if isinstance(r, BaseException) else None for r in results]

    async def _relay_step(self) -> int:
        return await publish_pending(self.db, self._publish_batch, self.settings.outbox_batch_size)

    # Consumers ------------------------------------------------------------------------------

    async def _setup_consumers(self) -> None:
        failures = 0
        while True:
            conn: AbstractRobustConnection | None = None
            try:
                conn = await self._connect("consumer")
                consumers = []
                for sub in self._subscriptions.values():
                    channel = await conn.channel(publisher_confirms=True)
                    await channel.set_qos(prefetch_count=sub.prefetch)
                    _, dlx, queue = await self._declare(channel, sub)
                    assert queue is not None
                    consumers.append(_Consumer(sub, channel, queue, dlx))
                for c in consumers:
                    c.tag = await c.queue.consume(partial(self._on_message, c))
            except Exception as exc:  # broker down or unreachable: keep trying
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
                failures += 1
                delay = min(_CONSUMER_SETUP_BACKOFF_MAX_S, self._reconnect_interval * failures)
                log.warning("consumer setup failed, retrying in %.1fs: %s", delay, exc)
                await asyncio.sleep(delay)
                continue
            self._con_conn, self._consumers = conn, consumers
            self._consumers_ready.set()
            return

    async def _on_message(self, consumer: _Consumer, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handler_tasks.add(task)
        self._inflight += 1
        try:
            await self._handle(consumer, message)
        except Exception:
            # Acking, retrying or dead-lettering failed (channel trouble): hand the message
            # back so it is redelivered rather than stuck unacknowledged.
            log.exception("consumer %s could not settle message %s", consumer.sub.name,
                          message.message_id)
            with contextlib.suppress(Exception):
                await message.nack(requeue=True)
        finally:
            self._inflight -= 1
            if task is not None:
                self._handler_tasks.discard(task)

    async def _handle(self, consumer: _Consumer, message: AbstractIncomingMessage) -> None:
        sub = consumer.sub
        retries = _retry_count(message.headers)
        try:
            event = Event.from_json(message.body)
        except MalformedEventError as exc:
            log.error("consumer %s: malformed message %s to DLQ", sub.name, message.message_id)
            await self._dead_letter(consumer, message, f"malformed envelope: {exc}", retries)
            await message.ack()
            return
        try:
            await deliver(self.db, sub, event)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if retries >= self.settings.consumer_max_retries:
                log.error("consumer %s: event %s failed %d times, to DLQ: %s",
                          sub.name, event.id, retries + 1, error)
                await self._dead_letter(consumer, message, error, retries)
            else:
                delay = retry_delay(self.settings.consumer_retry_base_s, retries)
                log.warning("consumer %s: event %s failed, retry %d in %.2fs: %s",
                            sub.name, event.id, retries + 1, delay, error)
                await self._retry(consumer, message, error, retries + 1, delay)
            # Acked only after the copy is confirmed in the retry queue or DLQ: never lost.
            await message.ack()
            return
        await message.ack()

    def _copy(
        self, message: AbstractIncomingMessage, headers: dict[str, Any],
        expiration: float | None = None,
    ) -> aio_pika.Message:
        # Broker-written headers (x-death, x-first-death-*) describe the old hop; keep ours.
        kept = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")}
        return aio_pika.Message(
            body=message.body,
            headers={**kept, **headers},
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message.message_id,
            type=message.type,
            app_id=message.app_id,
            expiration=expiration,
        )

    async def _retry(
        self, consumer: _Consumer, message: AbstractIncomingMessage, error: str,
        retry_count: int, delay: float,
    ) -> None:
        _, retry_queue, _ = self.queue_names(consumer.sub.name)
        copy = self._copy(
            message,
            {RETRY_HEADER: retry_count, ERROR_HEADER: error[:_ERROR_HEADER_MAX]},
            expiration=delay,
        )
        await consumer.channel.default_exchange.publish(
            copy, routing_key=retry_queue, timeout=self._publish_timeout
        )

    async def _dead_letter(
        self, consumer: _Consumer, message: AbstractIncomingMessage, error: str, retries: int
    ) -> None:
        copy = self._copy(
            message,
            {
                RETRY_HEADER: retries,
                ERROR_HEADER: error[:_ERROR_HEADER_MAX],
                "x-consumer": consumer.sub.name,
                "x-routing-key": message.routing_key or "",
            },
        )
        await consumer.dlx.publish(
            copy, routing_key=self.queue_name(consumer.sub.name), timeout=self._publish_timeout
        )

    # Lifecycle ------------------------------------------------------------------------------

    async def _start(self, *, consume: bool) -> None:
        self._relay = RelayLoop(
            "outbox-relay",
            self._relay_step,
            batch_size=self.settings.outbox_batch_size,
            poll_interval_s=self.settings.outbox_poll_interval_s,
        )
        self._relay.start()
        if consume and self._subscriptions:
            self._setup_task = asyncio.create_task(self._setup_consumers())
            # Give a reachable broker time to set up, so the queues exist when start()
            # returns; an unreachable one is retried in the background.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._consumers_ready.wait()), 10.0)

    async def _stop(self, timeout_s: float) -> None:
        if self._setup_task is not None and not self._setup_task.done():
            self._setup_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._setup_task
        self._setup_task = None
        for c in self._consumers:
            if c.tag is not None:
                with contextlib.suppress(Exception):
                    await c.queue.cancel(c.tag)
        # Let running handlers finish; whatever is still running after the timeout is
        # cancelled, its transaction rolls back and the broker redelivers the message.
        if self._handler_tasks:
            _, running = await asyncio.wait(set(self._handler_tasks), timeout=timeout_s)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        if self._con_conn is not None:
            with contextlib.suppress(Exception):
                await self._con_conn.close()
        self._con_conn, self._consumers = None, []
        self._consumers_ready.clear()
        if self._relay is not None:
            await self._relay.stop(timeout_s)
            self._relay = None
        if self._pub_conn is not None:
            with contextlib.suppress(Exception):
                await self._pub_conn.close()
        self._pub_conn, self._pub_exchange = None, None
        if self._admin_conn is not None:
            with contextlib.suppress(Exception):
                await self._admin_conn.close()
            self._admin_conn = None

    # Introspection and cleanup --------------------------------------------------------------

    async def _admin(self) -> AbstractConnection:
        if self._admin_conn is None or self._admin_conn.is_closed:
            self._admin_conn = await aio_pika.connect(self.url, timeout=self._publish_timeout)
        return self._admin_conn

    async def ping(self) -> bool:
        """Open and close a channel: a real round trip to the broker."""
        conn = await self._admin()
        channel = await conn.channel()
        await channel.close()
        return True

    async def queue_depths(self) -> dict[str, int]:
        """Ready messages in each consumer's main, retry and dead-letter queue (0 if absent)."""
        conn = await self._admin()
        depths: dict[str, int] = {}
        channel = await conn.channel()
        try:
            for sub in self._subscriptions.values():
                for name in self.queue_names(sub.name):
                    try:
                        queue = await channel.declare_queue(name, passive=True)
                    except aio_pika.exceptions.ChannelNotFoundEntity:
                        # The broker closed the channel over the missing queue; take a new one.
                        depths[name] = 0
                        channel = await conn.channel()
                        continue
                    depths[name] = int(queue.declaration_result.message_count or 0)
        finally:
            if not channel.is_closed:
                await channel.close()
        return depths

    async def _busy_queues(self) -> dict[str, int]:
        if not self._consuming:
            return {}
        depths = await self.queue_depths()
        return {k: v for k, v in depths.items() if v and not k.endswith(".dlq")}

    async def delete_topology(self) -> None:
        """Delete this bus's queues and the exchanges (test teardown; idempotent)."""
        conn = await self._admin()
        channel = await conn.channel()
        try:
            for sub in self._subscriptions.values():
                for name in self.queue_names(sub.name):
                    await channel.queue_delete(name)
            await channel.exchange_delete(self.exchange_name)
            await channel.exchange_delete(self.dlx_name)
        finally:
            if not channel.is_closed:
                await channel.close()
        if self._admin_conn is not None and not self._started:
            await self._admin_conn.close()
            self._admin_conn = None


def _retry_count(headers: Any) -> int:
    value = (headers or {}).get(RETRY_HEADER, 0)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0
