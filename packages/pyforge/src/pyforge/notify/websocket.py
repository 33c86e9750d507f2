"""The ``/ws`` protocol: authenticate, subscribe to readable projects, receive their events.

Client → server (JSON text frames)::

    {"action": "auth", "token": "<access JWT or pfk_ API key>"}   # if not sent at connect
    {"action": "subscribe", "project_id": "<uuid>"}
    {"action": "unsubscribe", "project_id": "<uuid>"}
    {"action": "ping"}                                             # answered {"type": "pong"}

Server → client: ``{"type": "welcome"}`` after authentication, ``{"type": "subscribed",
"project_id"}``, ``{"type": "error", "code", "detail"[, "project_id"]}``, ``{"type": "ping"}``
after ``ws_ping_interval_s`` without traffic, and events as ``{"type": "<event type>",
"id", "project_id", "payload", "timestamp"}``.

The credential is taken from ``Authorization: Bearer``/``X-API-Key`` headers, the ``token``
query parameter (browsers cannot set headers; prefer the first message, which stays out of
access logs), or an ``auth`` message within ``ws_auth_timeout_s``. Read access is checked
with the projects access rule on subscribe and again every ``ws_recheck_interval_s``, together
with the credential itself, so a revoked key, a logout or a removed team member stops the
stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from fastapi import WebSocket, WebSocketDisconnect
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import ProblemError, Unauthorized
from forgekit.identity.apikeys import api_keys, looks_like_api_key
from forgekit.identity.principal import Principal
from forgekit.identity.tokens import sessions
from forgekit.runtime import Runtime
from pyforge.access import project_for
from pyforge.notify.live import LiveHub, LiveSubscriber
from pyforge.permissions import Permission

if TYPE_CHECKING:
    from pyforge.settings import PyForgeSettings

log = logging.getLogger("pyforge.notify.ws")

CLOSE_UNAUTHORIZED = 4401
CLOSE_AUTH_TIMEOUT = 4408
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013
MAX_MESSAGE_CHARS = 4096
MAX_SUBSCRIPTIONS = 200


async def authenticate_credential(
    session: AsyncSession, runtime: Runtime, credential: str
) -> Principal:
    """The principal of an access token or API key, as the HTTP dependencies resolve it."""
    if looks_like_api_key(credential):
        return await api_keys.authenticate(session, credential)
    return await sessions.authenticate(session, runtime.settings, credential)


def credential_from_handshake(websocket: WebSocket) -> str | None:
    """A credential sent with the upgrade request (header or ``token`` query parameter)."""
    authorization = websocket.headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = websocket.headers.get("x-api-key") or websocket.query_params.get("token")
    return key.strip() if key and key.strip() else None


def _error(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "detail": detail, **extra}


class LiveConnection(LiveSubscriber):
    """One authenticated WebSocket: its subscriptions, send queue and housekeeping tasks."""

    def __init__(
        self,
        websocket: WebSocket,
        runtime: Runtime,
        hub: LiveHub,
        settings: PyForgeSettings,
        principal: Principal,
        credential: str,
    ) -> None:
        self.websocket = websocket
        self.runtime = runtime
        self.hub = hub
        self.settings = settings
        self.principal = principal
        self.credential = credential
        self.projects: set[str] = set()
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(settings.ws_send_queue_size)
        self.close_code: int | None = None
        self.close_reason = ""
        self._tasks: list[asyncio.Task[None]] = []

    # LiveSubscriber -------------------------------------------------------------------------

    def offer(self, message: dict[str, Any]) -> None:
        """Queue an event; a client too slow to keep up is disconnected, not buffered forever."""
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.abort(CLOSE_POLICY, "client too slow: send queue full")

    def abort(self, code: int, reason: str) -> None:
        """End the connection with ``code`` (from any task)."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        for task in self._tasks:
            task.cancel()

    # Running --------------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until the client leaves or the connection is aborted."""
        self._tasks = [
            asyncio.create_task(self._receive_loop()),
            asyncio.create_task(self._send_loop()),
            asyncio.create_task(self._recheck_loop()),
        ]
        try:
            await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self.hub.remove_all(self)

    async def _send_loop(self) -> None:
        while True:
            try:
                message = await asyncio.wait_for(
                    self.queue.get(), timeout=self.settings.ws_ping_interval_s
                )
            except TimeoutError:
                # Idle: a ping keeps proxies from dropping the connection and tells the
                # client the server is alive.
                message = {"type": "ping"}
            await self.websocket.send_text(json.dumps(message))

    async def _receive_loop(self) -> None:
        while True:
            try:
                text = await self.websocket.receive_text()
            except WebSocketDisconnect:
                return
            if len(text) > MAX_MESSAGE_CHARS:
                self.abort(CLOSE_POLICY, "message too large")
                return
            await self._handle(text)

    async def _handle(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            self.offer(_error("bad_request", "Messages must be JSON objects."))
            return
        if not isinstance(message, dict):
            self.offer(_error("bad_request", "Messages must be JSON objects."))
            return
        action = message.get("action")
        if action == "ping":
            self.offer({"type": "pong"})
        elif action == "pong":
            pass
        elif action in ("subscribe", "unsubscribe"):
            try:
                project_id = str(uuid.UUID(str(message.get("project_id"))))
            except ValueError:
                self.offer(_error("bad_request", "project_id must be a UUID."))
                return
            if action == "subscribe":
                await self._subscribe(project_id)
            else:
                self.projects.discard(project_id)
                self.hub.remove(project_id, self)
                self.offer({"type": "unsubscribed", "project_id": project_id})
        elif action == "auth":
            self.offer(_error("bad_request", "Already authenticated."))
        else:
            self.offer(_error("bad_request", f"Unknown action {action!r}."))

    async def _subscribe(self, project_id: str) -> None:
        if project_id not in self.projects and len(self.projects) >= MAX_SUBSCRIPTIONS:
            self.offer(_error("too_many_subscriptions",
                              f"At most {MAX_SUBSCRIPTIONS} projects per connection.",
                              project_id=project_id))
            return
        problem = await self._check_access(project_id)
        if problem is not None:
            self.offer(_error(problem.slug, problem.detail, project_id=project_id))
            return
        self.projects.add(project_id)
        self.hub.add(project_id, self)
        self.offer({"type": "subscribed", "project_id": project_id})

    async def _check_access(self, project_id: str) -> ProblemError | None:
        async with self.runtime.db.session() as session:
            try:
                await project_for(
                    session, self.principal, uuid.UUID(project_id), Permission.PROJECT_READ
                )
            except ProblemError as exc:
                return exc
        return None

    async def _recheck_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.ws_recheck_interval_s)
            try:
                async with self.runtime.db.session() as session:
                    self.principal = await authenticate_credential(
                        session, self.runtime, self.credential
                    )
            except Unauthorized:
                self.offer(_error("unauthorized", "Credential expired or revoked."))
                # Let the error frame go out before closing.
                await asyncio.sleep(0.05)
                self.abort(CLOSE_UNAUTHORIZED, "credential expired or revoked")
                return
            for project_id in list(self.projects):
                problem = await self._check_access(project_id)
                if problem is not None:
                    self.projects.discard(project_id)
                    self.hub.remove(project_id, self)
                    self.offer(_error("access_revoked", problem.detail, project_id=project_id))


async def _read_auth_message(websocket: WebSocket, timeout_s: float) -> str | None:
    try:
        text = await asyncio.wait_for(websocket.receive_text(), timeout=timeout_s)
    except TimeoutError:
        return None
    try:
        message = json.loads(text) if len(text) <= MAX_MESSAGE_CHARS else None
    except ValueError:
        message = None
    if isinstance(message, dict) and message.get("action") == "auth":
        token = message.get("token")
        if isinstance(token, str) and token.strip():
            return token.strip()
    return ""


async def serve_websocket(
    websocket: WebSocket, runtime: Runtime, hub: LiveHub, settings: PyForgeSettings
) -> None:
    """Run the ``/ws`` protocol on an incoming connection."""
    await websocket.accept()
    try:
        credential = credential_from_handshake(websocket)
        if credential is None:
            credential = await _read_auth_message(websocket, settings.ws_auth_timeout_s)
            if credential is None:
                await _close(websocket, CLOSE_AUTH_TIMEOUT, "authentication timeout")
                return
        try:
            if not credential:
                raise Unauthorized("Send {\"action\": \"auth\", \"token\": ...} first.")
            async with runtime.db.session() as session:
                principal = await authenticate_credential(session, runtime, credential)
        except Unauthorized as exc:
            await websocket.send_text(json.dumps(_error("unauthorized", exc.detail)))
            await _close(websocket, CLOSE_UNAUTHORIZED, "unauthorized")
            return
        try:
            await hub.ensure_listening()
        except (TimeoutError, RedisError, OSError):
            log.exception("live hub unavailable")
            await websocket.send_text(json.dumps(_error("unavailable", "Try again later.")))
            await _close(websocket, CLOSE_TRY_AGAIN, "live events unavailable")
            return
        connection = LiveConnection(websocket, runtime, hub, settings, principal, credential)
        await websocket.send_text(
            json.dumps({
                "type": "welcome",
                "user_id": str(principal.user_id),
                "ping_interval_s": settings.ws_ping_interval_s,
            })
        )
        await connection.run()
        if connection.close_code is not None:
            await _close(websocket, connection.close_code, connection.close_reason)
    except WebSocketDisconnect:
        return


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    # The client may already be gone; closing twice or into a dead socket is not an error.
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.close(code=code, reason=reason)
