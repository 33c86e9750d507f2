"""The /ws endpoint with a real WebSocket client against the app served by uvicorn on loopback,
on both backends: authentication, subscriptions limited to readable projects, cross-project
isolation, pings, access re-checks, and fan-out across two app instances through Redis."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from forgekit.identity.models import Team, TeamMember
from forgekit.identity.testing import create_api_key, register_and_login
from forgekit.live import RedisLiveHub
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from forgekit.testing.loopback import receive_json as recv
from forgekit.testing.loopback import serve_asgi
from pyforge.app import create_app
from pyforge.notify.context import notify_context
from pyforge.notify.testing import make_project
from pyforge.settings import PyForgeSettings

# The auth timeout never fires where a client authenticates (a busy machine can take seconds
# to read the first message); test_an_unauthenticated_connection_times_out sets a short one.
NOTIFY = {"notify_delivery_poll_s": 0.05, "ws_ping_interval_s": 5.0,
          "ws_recheck_interval_s": 0.5, "ws_auth_timeout_s": 60.0}


@pytest.fixture
def notify_settings(request: pytest.FixtureRequest) -> PyForgeSettings:
    return PyForgeSettings(_env_file=None, **{**NOTIFY, **getattr(request, "param", {})})


@pytest.fixture
def app_factory(notify_settings: PyForgeSettings):
    return lambda settings: create_app(settings, notify_settings)


@pytest.fixture
async def server(app: FastAPI) -> AsyncIterator[str]:
    async with serve_asgi(app) as url:
        yield url.replace("http://", "ws://") + "/ws"


async def no_message(ws: ClientConnection, wait: float = 0.5) -> None:
    try:
        message = await recv(ws, timeout=wait)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected message {message}")


@asynccontextmanager
async def live(url: str, token: str | None = None, **kwargs: Any) -> AsyncIterator[ClientConnection]:
    target = f"{url}?token={token}" if token else url
    async with connect(target, open_timeout=30, close_timeout=2, **kwargs) as ws:
        if token or kwargs.get("additional_headers"):
            assert (await recv(ws))["type"] == "welcome"
        yield ws


async def subscribe(ws: ClientConnection, project_id: uuid.UUID) -> dict:
    await ws.send(json.dumps({"action": "subscribe", "project_id": str(project_id)}))
    return await recv(ws)


async def test_clients_receive_only_their_projects_events(
    client: httpx.AsyncClient, runtime: Runtime, server: str
) -> None:
    alice, bob = await register_and_login(client), await register_and_login(client)
    async with runtime.db.session() as session:
        pa = await make_project(session, alice.id, name="alice's")
        pb = await make_project(session, bob.id, name="bob's")

    async with live(server, alice.access_token) as wa, live(
        server, additional_headers={"Authorization": f"Bearer {bob.access_token}"}
    ) as wb:
        assert await subscribe(wa, pa.id) == {"type": "subscribed", "project_id": str(pa.id)}
        denied = await subscribe(wa, pb.id)  # bob's private project does not exist for alice
        assert denied["type"] == "error" and denied["code"] == "not-found"
        assert denied["project_id"] == str(pb.id)
        assert (await subscribe(wb, pb.id))["type"] == "subscribed"

        e1 = await runtime.events.emit("analysis.progress", {
            "project_id": str(pa.id), "analysis_id": "a1", "files_done": 3, "files_total": 9})
        e2 = await runtime.events.emit("analysis.completed", {
            "project_id": str(pb.id), "analysis_id": "b1", "status": "succeeded"})
        e3 = await runtime.events.emit("analysis.completed", {
            "project_id": str(pa.id), "analysis_id": "a1", "status": "succeeded"})

        got_a = [await recv(wa), await recv(wa)]
        got_b = await recv(wb)
        await no_message(wa)
        await no_message(wb)

    assert sorted(m["id"] for m in got_a) == sorted([str(e1.id), str(e3.id)])
    progress = next(m for m in got_a if m["type"] == "analysis.progress")
    assert progress["project_id"] == str(pa.id)
    assert progress["payload"] == {"project_id": str(pa.id), "analysis_id": "a1",
                                   "files_done": 3, "files_total": 9}
    assert progress["timestamp"]
    assert got_b["id"] == str(e2.id) and got_b["type"] == "analysis.completed"


async def test_authentication_and_scopes(
    client: httpx.AsyncClient, runtime: Runtime, server: str
) -> None:
    user = await register_and_login(client)
    async with runtime.db.session() as session:
        project = await make_project(session, user.id)

    async with connect(f"{server}?token=not-a-token", open_timeout=30) as ws:
        error = json.loads(await asyncio.wait_for(ws.recv(), 60))
        assert error["type"] == "error" and error["code"] == "unauthorized"
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 60)
    assert closed.value.rcvd.code == 4401

    key = await create_api_key(client, user, ["project:read"])
    async with live(server) as ws:  # first-message authentication with an API key
        await ws.send(json.dumps({"action": "auth", "token": key["key"]}))
        assert (await recv(ws))["type"] == "welcome"
        assert (await subscribe(ws, project.id))["type"] == "subscribed"
        await ws.send(json.dumps({"action": "ping"}))
        assert await recv(ws) == {"type": "pong"}
        await ws.send("not json")
        assert (await recv(ws))["code"] == "bad_request"
        await ws.send(json.dumps({"action": "subscribe", "project_id": "nope"}))
        assert (await recv(ws))["code"] == "bad_request"

    no_read = await create_api_key(client, user, ["ml:predict"])
    async with live(server, no_read["key"]) as ws:
        refused = await subscribe(ws, project.id)
        assert refused["type"] == "error" and refused["code"] == "forbidden"


@pytest.mark.parametrize("notify_settings", [{"ws_auth_timeout_s": 0.5}], indirect=True)
async def test_an_unauthenticated_connection_times_out(server: str) -> None:
    async with connect(server, open_timeout=30) as ws:  # nothing sent: times out
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 60)
    assert closed.value.rcvd.code == 4408


@pytest.mark.parametrize("notify_settings", [{"ws_ping_interval_s": 0.2}], indirect=True)
async def test_idle_connections_get_pings(
    client: httpx.AsyncClient, runtime: Runtime, server: str
) -> None:
    user = await register_and_login(client)
    async with live(server, user.access_token) as ws:
        assert await recv(ws, skip_pings=False) == {"type": "ping"}
        assert await recv(ws, skip_pings=False) == {"type": "ping"}


async def test_losing_access_ends_the_subscription(
    client: httpx.AsyncClient, runtime: Runtime, server: str
) -> None:
    owner, member = await register_and_login(client), await register_and_login(client)
    async with runtime.db.transaction() as session:
        team = Team(id=uuid.uuid4(), name="t")
        session.add(team)
        await session.flush()
        session.add(TeamMember(team_id=team.id, user_id=member.id, role="viewer"))
    async with runtime.db.session() as session:
        project = await make_project(session, owner.id, team_id=team.id)

    async with live(server, member.access_token) as ws:
        assert (await subscribe(ws, project.id))["type"] == "subscribed"
        async with runtime.db.transaction() as session:
            await session.execute(delete(TeamMember).where(TeamMember.user_id == member.id))
        revoked = await recv(ws)
        assert revoked["type"] == "error" and revoked["code"] == "access_revoked"
        await runtime.events.emit("analysis.started", {"project_id": str(project.id),
                                                       "analysis_id": "x"})
        await runtime.events.drain()
        await no_message(ws)


@pytest.mark.parametrize("backend", ["real"])
async def test_fan_out_across_app_instances_through_redis(
    client: httpx.AsyncClient, runtime: Runtime, forge_settings: ForgeSettings,
    notify_settings: PyForgeSettings,
) -> None:
    # Instance B shares the database and Redis but consumes no events: whatever its client
    # receives was published by instance A's consumer and carried by Redis pub/sub.
    other = create_app(forge_settings, notify_settings.model_copy(
        update={"inprocess_workers": False}))
    assert isinstance(notify_context(runtime).hub, RedisLiveHub)
    user = await register_and_login(client)
    async with runtime.db.session() as session:
        project = await make_project(session, user.id)
    async with other.router.lifespan_context(other), serve_asgi(other) as url:
        other_hub = notify_context(other.state.runtime).hub
        assert other_hub is not notify_context(runtime).hub
        assert not other.state.runtime.events.consuming
        async with live(url.replace("http://", "ws://") + "/ws", user.access_token) as ws:
            assert (await subscribe(ws, project.id))["type"] == "subscribed"
            event = await runtime.events.emit("analysis.completed", {
                "project_id": str(project.id), "analysis_id": "z", "status": "succeeded"})
            message = await recv(ws)
            assert other_hub.local_count(str(project.id)) == 1
    assert message["id"] == str(event.id) and message["project_id"] == str(project.id)


@pytest.fixture
def tight_ws_settings(forge_settings: ForgeSettings) -> ForgeSettings:
    # Per hour, not per minute: a slow machine's three handshakes still fall in one window.
    return forge_settings.model_copy(update={"rate_limit_default": "2/hour"})


async def test_handshakes_count_against_the_default_rate_limit(
    notify_settings: PyForgeSettings, tight_ws_settings: ForgeSettings
) -> None:
    """/ws is a FastAPI route under the app-wide limiter: the third handshake in the window is
    refused (the app closes with 1008 before accepting, which the server sends as HTTP 403)."""
    app = create_app(tight_ws_settings, notify_settings)
    async with app.router.lifespan_context(app), serve_asgi(app) as base:
        url = base.replace("http://", "ws://") + "/ws"
        for _ in range(2):
            async with connect(url, open_timeout=30, close_timeout=2) as ws:
                await ws.send(json.dumps({"action": "ping"}))
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, open_timeout=30, close_timeout=2):
                pass
    assert refused.value.response.status_code == 403
