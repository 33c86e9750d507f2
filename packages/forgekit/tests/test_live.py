"""The live hub's fan-out: in-process, and across hubs (as across API processes) through Redis
pub/sub, where the runtime's key prefix keeps two products' messages apart."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from forgekit.live import InProcessLiveHub, LiveSubscriber, RedisLiveHub, create_live_hub
from forgekit.testing.servers import RealServers


class Inbox(LiveSubscriber):
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    def offer(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        self.arrived.set()


async def test_in_process_hub_delivers_to_the_topic_subscribers_only() -> None:
    hub = create_live_hub("", "ignored:")
    assert isinstance(hub, InProcessLiveHub)
    a, b = Inbox(), Inbox()
    hub.add("t1", a)
    hub.add("t2", b)
    await hub.publish("t1", {"id": 1})
    assert a.messages == [{"id": 1}] and b.messages == []
    hub.remove_all(a)
    await hub.publish("t1", {"id": 2})
    assert a.messages == [{"id": 1}] and hub.local_count("t1") == 0


@pytest.mark.parametrize("backend", ["real"])
async def test_redis_fan_out_reaches_other_hubs_with_the_same_prefix_only(
    real_servers: RealServers,
) -> None:
    prefix = f"test:{uuid.uuid4().hex[:10]}:"
    publisher = create_live_hub(real_servers.redis_url, prefix)
    listener = create_live_hub(real_servers.redis_url, prefix)
    stranger = create_live_hub(real_servers.redis_url, f"other{prefix}")
    assert isinstance(publisher, RedisLiveHub) and isinstance(listener, RedisLiveHub)
    mine, theirs = Inbox(), Inbox()
    # Topics may contain glob characters: they are escaped in the pattern, kept in the name.
    topic = "room*[1]"
    listener.add(topic, mine)
    stranger.add(topic, theirs)
    try:
        await listener.ensure_listening()
        await stranger.ensure_listening()
        await publisher.publish(topic, {"id": "e1", "payload": {"n": 1}})
        await publisher.publish("elsewhere", {"id": "e2"})
        await asyncio.wait_for(mine.arrived.wait(), 60)
        await asyncio.sleep(0.3)  # time for anything misrouted to arrive too
    finally:
        for hub in (publisher, listener, stranger):
            await hub.stop()
    assert mine.messages == [{"id": "e1", "payload": {"n": 1}}]
    assert theirs.messages == []
