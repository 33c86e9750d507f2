"""The kit's WebSocket machinery with a sample product's topics, served by uvicorn on loopback
and driven by a real WebSocket client, on both backends: authentication (query token, first
message, timeout), subscriptions checked by the product, messages from the hub, pings, a slow
client disconnected, and a credential re-checked while the connection is open."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, WebSocket
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from forgekit.app import create_app
from forgekit.errors import Forbidden, ProblemError
from forgekit.identity.models import User
from forgekit.identity.principal import Principal
from forgekit.identity.testing import register_and_login
from forgekit.live import LiveHub, LiveSettings, LiveTopics, create_live_hub, serve_websocket
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from forgekit.testing.loopback import receive_json as recv
from forgekit.testing.loopback import serve_asgi

# The auth timeout of /live never fires in a test that authenticates: a busy machine can take
# seconds to read the first message (0.5 s, then 3 s, closed CI runs' connections before their
# auth message was read). The timeout itself is proven on /live-quick, where nobody sends one.
LIVE = LiveSettings(ping_interval_s=0.3, auth_timeout_s=60.0, recheck_interval_s=0.3,
                    send_queue_size=4)
QUICK_AUTH = dataclasses.replace(LIVE, auth_timeout_s=0.5)


class RoomTopics(LiveTopics):
    """Rooms named ``open-*`` are for everyone; every other room is refused."""

    field = "room"
    plural = "rooms"
    max_per_connection = 3

    def parse(self, value: object) -> str:
        if not isinstance(value, str) or not value:
            raise ValueError("room must be a non-empty string.")
        return value

    async def check_access(
        self, session: AsyncSession, principal: Principal, topic: str
    ) -> ProblemError | None:
        return None if topic.startswith("open-") else Forbidden("Not your room.")


@pytest.fixture
def app_factory():
    def build(settings: ForgeSettings) -> FastAPI:
        hub = create_live_hub(settings.redis_url, settings.effective_redis_prefix)

        def add_hub(runtime: Runtime) -> None:
            runtime.services.append(hub)

        app = create_app(settings, title="forge-test", setup=[add_hub])
        app.state.hub = hub

        async def live(websocket: WebSocket) -> None:
            await serve_websocket(websocket, websocket.app.state.runtime, hub, RoomTopics(), LIVE)

        async def live_quick(websocket: WebSocket) -> None:
            await serve_websocket(websocket, websocket.app.state.runtime, hub, RoomTopics(),
                                  QUICK_AUTH)  # fmt: skip

        app.add_api_websocket_route("/live", live)
        app.add_api_websocket_route("/live-quick", live_quick)
        return app

    return build


@pytest.fixture
async def ws_url(app: FastAPI) -> AsyncIterator[str]:
    async with serve_asgi(app) as url:
        yield url.replace("http://", "ws://") + "/live"


async def subscribe(ws: ClientConnection, room: object) -> dict:
    await ws.send(json.dumps({"action": "subscribe", "room": room}))
    return await recv(ws)


async def test_subscriptions_are_the_products_and_messages_flow(
    client: httpx.AsyncClient, app: FastAPI, ws_url: str
) -> None:
    hub: LiveHub = app.state.hub
    user = await register_and_login(client)
    async with connect(f"{ws_url}?token={user.access_token}", open_timeout=30) as ws:
        welcome = await recv(ws)
        assert welcome["type"] == "welcome" and welcome["ping_interval_s"] == 0.3
        assert await subscribe(ws, "open-1") == {"type": "subscribed", "room": "open-1"}
        refused = await subscribe(ws, "vault")
        assert refused == {"type": "error", "code": "forbidden", "detail": "Not your room.",
                           "room": "vault"}
        assert (await subscribe(ws, 7))["detail"] == "room must be a non-empty string."
        await subscribe(ws, "open-2")
        await subscribe(ws, "open-3")
        too_many = await subscribe(ws, "open-4")
        assert too_many["code"] == "too_many_subscriptions"
        assert too_many["detail"] == "At most 3 rooms per connection."

        await hub.publish("open-1", {"type": "note", "id": "m1"})
        await hub.publish("vault", {"type": "note", "id": "m2"})
        assert await recv(ws) == {"type": "note", "id": "m1"}
        assert await recv(ws, skip_pings=False) == {"type": "ping"}  # idle: nothing else came
        await ws.send(json.dumps({"action": "unsubscribe", "room": "open-1"}))
        assert await recv(ws) == {"type": "unsubscribed", "room": "open-1"}


async def test_first_message_auth_and_timeout(
    client: httpx.AsyncClient, app: FastAPI, ws_url: str
) -> None:
    user = await register_and_login(client)
    async with connect(ws_url, open_timeout=30) as ws:
        await ws.send(json.dumps({"action": "auth", "token": user.access_token}))
        assert (await recv(ws))["type"] == "welcome"
        await ws.send(json.dumps({"action": "ping"}))
        assert await recv(ws) == {"type": "pong"}
    # Nothing sent: the (short) auth timeout of /live-quick closes the connection.
    async with connect(f"{ws_url}-quick", open_timeout=30) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 60)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408


async def test_a_slow_client_is_disconnected(
    client: httpx.AsyncClient, app: FastAPI, ws_url: str
) -> None:
    hub: LiveHub = app.state.hub
    user = await register_and_login(client)
    async with connect(f"{ws_url}?token={user.access_token}", open_timeout=30) as ws:
        await recv(ws)
        await subscribe(ws, "open-1")
        # Dispatched faster than any send can drain: the queue (4) overflows.
        for i in range(20):
            hub.dispatch("open-1", {"type": "note", "id": i})
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(60):  # pings would otherwise keep an open one going
                while True:
                    await recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_a_credential_that_stops_working_ends_the_stream(
    client: httpx.AsyncClient, runtime: Runtime, ws_url: str
) -> None:
    user = await register_and_login(client)
    async with connect(f"{ws_url}?token={user.access_token}", open_timeout=30) as ws:
        await recv(ws)
        async with runtime.db.transaction() as session:
            await session.execute(update(User).where(User.id == user.id).values(is_active=False))
        error = await recv(ws, timeout=30)
        assert error["type"] == "error" and error["code"] == "unauthorized"
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws, timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
