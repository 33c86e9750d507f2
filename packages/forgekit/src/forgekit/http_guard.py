"""Bounds on slow and oversized requests at the HTTP layer, below the ASGI app.

uvicorn's httptools protocol (what ``auto`` picks) arms a timer only on idle keep-alive
connections: a client that opens a connection and sends its headers a byte at a time, or its
body a byte every few seconds (slowloris), holds the connection for as long as it likes, and
headers are collected without any size limit. :class:`GuardedHttpToolsProtocol` adds, per
connection, what Apache's ``mod_reqtimeout`` and nginx's ``client_header_timeout`` give:

- the request head (request line and headers) must arrive within ``head_timeout_s`` of its
  first byte (of the connection, for the first request), else ``408`` and the connection closes;
- the head may hold at most ``max_head_bytes`` and ``max_headers`` fields, else ``431`` and the
  connection closes (never a 500, and never unbounded memory);
- the body must arrive within ``body_timeout_s`` plus one second per ``body_min_rate_bps``
  bytes received (a fast large upload keeps extending its deadline; a trickle does not), else
  the connection closes (with ``408`` when the app has not answered yet).

``<product> serve`` passes it to uvicorn with the limits of the kit's settings (``FORGE_HTTP_*``).
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


@dataclass(frozen=True)
class HttpLimits:
    """The per-request bounds (see the module's docstring)."""

    head_timeout_s: float = 10.0
    max_head_bytes: int = 65_536
    max_headers: int = 100
    body_timeout_s: float = 20.0
    body_min_rate_bps: int = 1024


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing an oversized head."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with :class:`HttpLimits` enforced per connection."""

    def __init__(self, *args: Any, limits: HttpLimits | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits or HttpLimits()
        self._timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._head_fields = 0
        self._body_started = 0.0
        self._body_bytes = 0
        self._refusal: int | None = None

    # The head: a deadline from its first byte, and a size bound.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Accept the connection; its first request's head is due within the timeout."""
        super().connection_made(transport)
        self._arm(self.limits.head_timeout_s, self._head_timed_out)

    def on_message_begin(self) -> None:
        """A request starts (a keep-alive connection's next one): its head is due in time."""
        super().on_message_begin()
        self._head_bytes = self._head_fields = 0
        if self._timer is None:
            self._arm(self.limits.head_timeout_s, self._head_timed_out)

    def on_url(self, url: bytes) -> None:
        """Count the request target toward the head's size."""
        self._count_head(len(url), fields=0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count one header field toward the head's size and field count."""
        self._count_head(len(name) + len(value) + 4, fields=1)
        super().on_header(name, value)

    def _count_head(self, size: int, *, fields: int) -> None:
        self._head_bytes += size
        self._head_fields += fields
        if self._head_bytes > self.limits.max_head_bytes or (
            self._head_fields > self.limits.max_headers
        ):
            # uvicorn answers a parser callback's error with 400; send_400_response sends
            # this status instead.
            self._refusal = 431
            raise _HeadTooLarge

    def on_headers_complete(self) -> None:
        """The head is in: its timer ends, the body's (if any) starts."""
        self._disarm()
        super().on_headers_complete()
        self._body_started, self._body_bytes = self.loop.time(), 0
        self._arm(self.limits.body_timeout_s, self._body_check)

    # The body: a deadline that grows with what arrived.
    def on_body(self, body: bytes) -> None:
        """Count the body's bytes (they extend its deadline)."""
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        """The request is complete: no timer runs until the next one begins."""
        self._disarm()
        super().on_message_complete()

    def _body_check(self) -> None:
        self._timer = None
        if self.flow is not None and self.flow.read_paused:
            # uvicorn stopped reading because the app has not consumed what came: the
            # client is not the slow one, so its clock starts again.
            self._body_started, self._body_bytes = self.loop.time(), 0
        deadline = (self._body_started + self.limits.body_timeout_s
                    + self._body_bytes / max(self.limits.body_min_rate_bps, 1))  # fmt: skip
        if self.loop.time() < deadline:
            self._timer = self.loop.call_at(deadline, self._body_check)
            return
        answered = self.cycle is not None and self.cycle.response_started
        self._close(None if answered else 408)

    def _head_timed_out(self) -> None:
        self._timer = None
        self._close(408)

    # Timers and refusals.
    def _arm(self, delay_s: float, callback: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(delay_s, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _close(self, status: int | None) -> None:
        if self.transport.is_closing():
            return
        if status is not None:
            self.transport.write(_response(status))
        if self.cycle is not None:
            self.cycle.keep_alive = False
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """Refuse a request the parser could not take: 431 for an oversized head, else 400."""
        if self._refusal is None:
            super().send_400_response(msg)
            return
        self._disarm()
        self._close(self._refusal)

    def handle_websocket_upgrade(self) -> None:
        """A WebSocket takes the connection over: no HTTP timer may close it."""
        self._disarm()
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: stop its timer."""
        self._disarm()
        super().connection_lost(exc)


def _response(status: int) -> bytes:
    reason = _REASONS[status]
    body = reason + b"\n"
    return (b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, reason, len(body), body))  # fmt: skip


def guarded_protocol(limits: HttpLimits) -> Any:
    """The protocol factory to pass as uvicorn's ``http`` (picklable, so it reaches the
    API worker processes of ``--workers N``)."""
    return functools.partial(GuardedHttpToolsProtocol, limits=limits)
