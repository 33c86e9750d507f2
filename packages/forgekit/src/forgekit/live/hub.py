"""Live messages for WebSocket clients, fanned out across API processes.

A product publishes on a *topic* (a string of its choosing: a record's id, say) with
:meth:`LiveHub.publish`, wherever its consumers run; with Redis configured that is a
``PUBLISH`` on ``{redis_prefix}live:{topic}``, and every API process holding WebSocket clients
runs one ``PSUBSCRIBE {redis_prefix}live:*`` listener that hands each message to its local
connections subscribed to that topic. The prefix is the runtime's, so two products on one
Redis never see each other's messages. Without Redis (embedded: one process) the hub delivers
in memory. Delivery is best effort and at least once; messages should carry an id for clients
that must deduplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from abc import ABC, abstractmethod
from collections import defaultdict
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from forgekit.redis_client import redis_from_url

log = logging.getLogger("forgekit.live")

_RECONNECT_MAX_S = 10.0


def _escape_glob(text: str) -> str:
    return "".join("\\" + ch if ch in "\\*?[]^" else ch for ch in text)


class LiveSubscriber:
    """A local receiver of live messages (one WebSocket connection)."""

    def offer(self, message: dict[str, Any]) -> None:
        """Queue ``message`` for sending; must not block."""
        raise NotImplementedError


class LiveHub(ABC):
    """Routes topic messages to local subscribers; subclasses carry them between processes."""

    consumer_group: str | None = None  # a background service of every process

    def __init__(self) -> None:
        self._subscribers: dict[str, set[LiveSubscriber]] = defaultdict(set)

    # Local subscriptions --------------------------------------------------------------------

    def add(self, topic: str, subscriber: LiveSubscriber) -> None:
        """Deliver ``topic``'s messages to ``subscriber``."""
        self._subscribers[topic].add(subscriber)

    def remove(self, topic: str, subscriber: LiveSubscriber) -> None:
        """Stop delivering ``topic``'s messages to ``subscriber``."""
        subs = self._subscribers.get(topic)
        if subs is not None:
            subs.discard(subscriber)
            if not subs:
                del self._subscribers[topic]

    def remove_all(self, subscriber: LiveSubscriber) -> None:
        """Forget ``subscriber`` everywhere (its connection closed)."""
        for topic in list(self._subscribers):
            self.remove(topic, subscriber)

    def local_count(self, topic: str) -> int:
        """Local subscribers of a topic (for tests and metrics)."""
        return len(self._subscribers.get(topic, ()))

    def dispatch(self, topic: str, message: dict[str, Any]) -> None:
        """Hand a message to this process's subscribers of ``topic``."""
        for subscriber in list(self._subscribers.get(topic, ())):
            subscriber.offer(message)

    # Transport ------------------------------------------------------------------------------

    @abstractmethod
    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Send ``message`` to the subscribers of ``topic`` in every process."""

    async def ensure_listening(self) -> None:  # noqa: B027 (in-process: nothing to listen to)
        """Make sure messages published by other processes reach this one."""

    async def start(self) -> None:  # noqa: B027 (started lazily by the first WebSocket)
        """Nothing to start eagerly."""

    async def stop(self) -> None:  # noqa: B027
        """Release connections."""


class InProcessLiveHub(LiveHub):
    """The embedded hub: publisher and subscribers share this process."""

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Deliver locally."""
        self.dispatch(topic, message)


class RedisLiveHub(LiveHub):
    """Fan-out through Redis pub/sub, so any API process serves any topic's clients."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        super().__init__()
        self.redis_url = redis_url
        self.channel_prefix = f"{prefix}live:"
        self._publisher: Redis | None = None
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()

    def channel(self, topic: str) -> str:
        """The Redis channel of a topic."""
        return self.channel_prefix + topic

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        """``PUBLISH`` the message as JSON (raises on Redis errors, so the consumer retries)."""
        if self._publisher is None:
            self._publisher = redis_from_url(self.redis_url)
        await self._publisher.publish(self.channel(topic), json.dumps(message))

    async def ensure_listening(self) -> None:
        """Start the ``PSUBSCRIBE`` listener once and wait until Redis confirmed it."""
        async with self._lock:
            if self._listener is None or self._listener.done():
                self._ready.clear()
                self._listener = asyncio.create_task(self._listen(), name="live-listener")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _listen(self) -> None:
        pattern = _escape_glob(self.channel_prefix) + "*"
        backoff = 0.2
        while True:
            client = Redis.from_url(self.redis_url, socket_connect_timeout=5)
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(pattern)
                while True:
                    # The timeout bounds each read so cancellation and reconnects stay prompt.
                    msg = await pubsub.get_message(timeout=1.0)
                    if msg is None:
                        continue
                    if msg["type"] == "psubscribe":
                        self._ready.set()
                        backoff = 0.2
                        continue
                    if msg["type"] == "pmessage":
                        self._on_message(msg["channel"], msg["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("live listener lost Redis (%s); reconnecting in %.1fs", exc, backoff)
                self._ready.clear()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _RECONNECT_MAX_S)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                with contextlib.suppress(RedisError, OSError):
                    await client.aclose()

    def _on_message(self, channel: bytes | str, data: bytes | str) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        topic = name[len(self.channel_prefix):]
        try:
            message = json.loads(data)
        except ValueError:
            log.warning("live: ignoring a malformed message on %s", name)
            return
        if isinstance(message, dict):
            self.dispatch(topic, message)

    async def stop(self) -> None:
        """Stop listening and close the connections."""
        task, self._listener = self._listener, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None


def create_live_hub(redis_url: str, prefix: str) -> LiveHub:
    """Redis pub/sub when ``redis_url`` is set, else the in-process hub."""
    return RedisLiveHub(redis_url, prefix) if redis_url else InProcessLiveHub()
