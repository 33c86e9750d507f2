"""Reusable WebSocket machinery for live messages: authenticate, subscribe, stream.

Client → server (JSON text frames; ``<field>`` is the product's topic field, e.g. ``room_id``)::

    {"action": "auth", "token": "<access JWT or API key>"}   # if not sent at connect
    {"action": "subscribe", "<field>": "<topic>"}
    {"action": "unsubscribe", "<field>": "<topic>"}
    {"action": "ping"}                                         # answered {"type": "pong"}

Server → client: ``{"type": "welcome"}`` after authentication, ``{"type": "subscribed",
"<field>"}``, ``{"type": "error", "code", "detail"[, "<field>"]}``, ``{"type": "ping"}``
after ``ping_interval_s`` without traffic, and the messages published on subscribed topics.

The credential is taken from ``Authorization: Bearer``/``X-API-Key`` headers, the ``token``
query parameter (browsers cannot set headers; prefer the first message, which stays out of
access logs), or an ``auth`` message within ``auth_timeout_s``. Access is checked by the
product's :class:`LiveTopics` on subscribe and again every ``recheck_interval_s``, together
with the credential itself, so a revoked key, a logout or lost access stops the stream. A
client too slow to drain its send queue is disconnected rather than buffered without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import Forbidden, ProblemError, Unauthorized
from forgekit.identity.apikeys import api_keys, looks_like_api_key
from forgekit.identity.browser import cookie_credential
from forgekit.identity.mfa.gate import mark_enrolment_required, refuse_if_held
from forgekit.identity.principal import Principal
from forgekit.identity.tokens import sessions
from forgekit.live.hub import LiveHub, LiveSubscriber
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings

log = logging.getLogger("forgekit.live.ws")

CLOSE_UNAUTHORIZED = 4401
CLOSE_AUTH_TIMEOUT = 4408
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013
MAX_MESSAGE_CHARS = 4096


@dataclass(frozen=True)
class LiveSettings:
    """Timings and limits of live connections (a product passes its settings' values)."""

    #: A ``{"type": "ping"}`` after this long without traffic.
    ping_interval_s: float
    #: How long an unauthenticated connection may wait before its ``auth`` message.
    auth_timeout_s: float
    #: How often the credential and every subscription's access are checked again.
    recheck_interval_s: float
    #: Messages queued for one client before it is disconnected as too slow.
    send_queue_size: int


class LiveTopics(ABC):
    """What a subscription means in a product: its topics and who may follow them."""

    #: The message field naming a topic (``{"action": "subscribe", "<field>": ...}``).
    field: str
    #: The topics' name in the plural, for error messages.
    plural: str
    #: Subscriptions one connection may hold.
    max_per_connection: int = 200

    @abstractmethod
    def parse(self, value: object) -> str:
        """The topic named by a message's ``field`` value; ``ValueError(detail)`` if invalid."""

    @abstractmethod
    async def check_access(
        self, session: AsyncSession, principal: Principal, topic: str
    ) -> ProblemError | None:
        """None when ``principal`` may follow ``topic``, else the problem to report."""


async def authenticate_credential(
    session: AsyncSession, runtime: Runtime, credential: str
) -> Principal:
    """The principal of an access token or API key, as the HTTP dependencies resolve it."""
    if looks_like_api_key(credential):
        return await api_keys.authenticate(session, credential)
    principal = await sessions.authenticate(session, runtime.settings, credential)
    # A session held back until its MFA enrolment follows nothing live either.
    refuse_if_held(await mark_enrolment_required(session, runtime.settings, principal))
    return principal


def credential_from_handshake(websocket: WebSocket, settings: ForgeSettings) -> str | None:
    """A credential sent with the upgrade request: a header, the ``token`` query parameter,
    or the browser session's cookie when the page is this site's own."""
    authorization = websocket.headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = websocket.headers.get("x-api-key") or websocket.query_params.get("token")
    if key and key.strip():
        return key.strip()
    try:
        return cookie_credential(websocket, settings)
    except Forbidden:
        # Another site's page riding the cookie: it must authenticate like any other client.
        return None


def _error(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "detail": detail, **extra}


class LiveConnection(LiveSubscriber):
    """One authenticated WebSocket: its subscriptions, send queue and housekeeping tasks."""

    def __init__(
        self,
        websocket: WebSocket,
        runtime: Runtime,
        hub: LiveHub,
        topics: LiveTopics,
        settings: LiveSettings,
        principal: Principal,
        credential: str,
    ) -> None:
        self.websocket = websocket
        self.runtime = runtime
        self.hub = hub
        self.topics = topics
        self.settings = settings
        self.principal = principal
        self.credential = credential
        self.subscriptions: set[str] = set()
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(settings.send_queue_size)
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
        # The loop also stops on ``close_code``, and waits with ``asyncio.timeout`` rather than
        # ``wait_for``: on Python 3.11, ``wait_for`` swallows a cancellation that arrives just
        # as the queue hands it an item, which is exactly when a flooded queue aborts the
        # connection, so a slow client was never disconnected.
        while self.close_code is None:
            try:
                async with asyncio.timeout(self.settings.ping_interval_s):
                    message = await self.queue.get()
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
                topic = self.topics.parse(message.get(self.topics.field))
            except ValueError as exc:
                self.offer(_error("bad_request", str(exc)))
                return
            if action == "subscribe":
                await self._subscribe(topic)
            else:
                self.subscriptions.discard(topic)
                self.hub.remove(topic, self)
                self.offer({"type": "unsubscribed", self.topics.field: topic})
        elif action == "auth":
            self.offer(_error("bad_request", "Already authenticated."))
        else:
            self.offer(_error("bad_request", f"Unknown action {action!r}."))

    async def _subscribe(self, topic: str) -> None:
        field, limit = self.topics.field, self.topics.max_per_connection
        if topic not in self.subscriptions and len(self.subscriptions) >= limit:
            self.offer(_error("too_many_subscriptions",
                              f"At most {limit} {self.topics.plural} per connection.",
                              **{field: topic}))
            return
        problem = await self._check_access(topic)
        if problem is not None:
            self.offer(_error(problem.slug, problem.detail, **{field: topic}))
            return
        self.subscriptions.add(topic)
        self.hub.add(topic, self)
        self.offer({"type": "subscribed", field: topic})

    async def _check_access(self, topic: str) -> ProblemError | None:
        async with self.runtime.db.session() as session:
            return await self.topics.check_access(session, self.principal, topic)

    async def _recheck_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.recheck_interval_s)
            try:
                async with self.runtime.db.session() as session:
                    self.principal = await authenticate_credential(
                        session, self.runtime, self.credential
                    )
            except (Unauthorized, Forbidden):
                self.offer(_error("unauthorized", "Credential expired or revoked."))
                # Let the error frame go out before closing.
                await asyncio.sleep(0.05)
                self.abort(CLOSE_UNAUTHORIZED, "credential expired or revoked")
                return
            for topic in list(self.subscriptions):
                problem = await self._check_access(topic)
                if problem is not None:
                    self.subscriptions.discard(topic)
                    self.hub.remove(topic, self)
                    self.offer(_error("access_revoked", problem.detail,
                                      **{self.topics.field: topic}))


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
    websocket: WebSocket,
    runtime: Runtime,
    hub: LiveHub,
    topics: LiveTopics,
    settings: LiveSettings,
) -> None:
    """Run the live protocol on an incoming connection, until either side ends it."""
    await websocket.accept()
    try:
        credential = credential_from_handshake(websocket, runtime.settings)
        if credential is None:
            credential = await _read_auth_message(websocket, settings.auth_timeout_s)
            if credential is None:
                await _close(websocket, CLOSE_AUTH_TIMEOUT, "authentication timeout")
                return
        try:
            if not credential:
                raise Unauthorized("Send {\"action\": \"auth\", \"token\": ...} first.")
            async with runtime.db.session() as session:
                principal = await authenticate_credential(session, runtime, credential)
        except (Unauthorized, Forbidden) as exc:  # Forbidden: held until MFA enrolment
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
        connection = LiveConnection(
            websocket, runtime, hub, topics, settings, principal, credential
        )
        await websocket.send_text(
            json.dumps({
                "type": "welcome",
                "user_id": str(principal.user_id),
                "ping_interval_s": settings.ping_interval_s,
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
