"""Loopback servers for tests of webhooks and live connections (products' tests too).

Real loopback servers only: :func:`serve_asgi` runs an ASGI app (a product's app, or a
:class:`HttpReceiver`) with uvicorn on a free loopback port inside the running event loop, so a
test can drive it with a real HTTP or WebSocket client. Importing this needs no test framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import uvicorn

from forgekit.testing.servers import free_port

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@contextlib.asynccontextmanager
async def serve_asgi(app: Any, *, port: int | None = None) -> AsyncIterator[str]:
    """Serve ``app`` on loopback for the duration; yields its base URL (``http://…``).

    The app's lifespan is not run (an app under test already entered it).
    """
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    # A busy machine can take seconds to get a new server task scheduled: wait generously.
    deadline = time.monotonic() + 60
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server exited before starting")
        if time.monotonic() > deadline:
            raise TimeoutError("server did not start")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class ReceivedRequest:
    """One request a :class:`HttpReceiver` got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """An ASGI app recording every request and answering from a script of status codes.

    ``script`` is consumed one status per request; when empty, ``default_status`` is used.
    ``delay_s`` makes every answer slow (for timeout tests).
    """

    script: list[int] = field(default_factory=list)
    default_status: int = 200
    delay_s: float = 0.0
    requests: list[ReceivedRequest] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request."""
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.requests.append(
            ReceivedRequest(
                method=scope["method"],
                path=scope["path"],
                headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
                body=b"".join(chunks),
                at=time.monotonic(),
            )
        )
        self._arrived.set()
        status = self.script.pop(0) if self.script else self.default_status
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok" if status < 300 else b"nope"})

    async def wait_for(self, count: int, timeout_s: float = 60.0) -> list[ReceivedRequest]:
        """Wait until ``count`` requests arrived; returns them."""
        deadline = time.monotonic() + timeout_s
        while len(self.requests) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self.requests)} of {count} requests arrived")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(remaining, 0.2))
        return self.requests[:count]


def independent_verify(secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """A receiver's check of a webhook signature header, written from the published scheme
    (the README's snippet) and sharing no code with :mod:`forgekit.webhooks.signing`, so a
    test that uses it checks the scheme, not the sender against itself."""
    fields = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    t, sig = fields.get("t", ""), fields.get("v1", "")
    if not t.isdigit() or abs(time.time() - int(t)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, sig)


class MessageSocket(Protocol):
    """A WebSocket client connection (``websockets``' ``ClientConnection``, say)."""

    async def recv(self) -> str | bytes:
        """The next message."""
        ...


async def receive_json(
    ws: MessageSocket,
    timeout: float = 60.0,  # noqa: ASYNC109 (a limit per message: each wait restarts it)
    skip_pings: bool = True,
) -> dict[str, Any]:
    """The next JSON message of a live connection, skipping the server's idle pings unless
    asked; raises ``TimeoutError`` after ``timeout`` seconds without one (generous by
    default: it returns as soon as a message comes, and a busy machine can be slow)."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if not (skip_pings and message["type"] == "ping"):
            return message
