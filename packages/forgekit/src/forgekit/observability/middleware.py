"""ASGI middleware: request id, access log, metrics, tracing and request-size limits.

Written as plain ASGI (not ``BaseHTTPMiddleware``) so it adds no task per request and streams
bodies untouched.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forgekit.errors import problem_response, set_problem_base
from forgekit.observability.context import reset_request_id, set_request_id
from forgekit.observability.metrics import AppMetrics

log = logging.getLogger("forgekit.access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class ObservabilityMiddleware:
    """Honours or generates ``X-Request-ID``, logs and measures every HTTP request."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: AppMetrics,
        tracer: Any | None = None,
        problem_base: str = "/problems/",
    ) -> None:
        self.app, self.metrics, self.tracer = app, metrics, tracer
        self.problem_base = problem_base

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Errors name this app's problem types, also on WebSocket routes.
        set_problem_base(self.problem_base)
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        # A client-supplied id is kept only if it is safe to echo into logs and headers.
        request_id = (
            incoming if incoming and _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        )
        token = set_request_id(request_id)
        method = scope["method"]
        status = 500
        start = time.perf_counter()
        self.metrics.in_progress.labels(method).inc()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        span_cm = (
            self.tracer.start_as_current_span(f"{method} {scope['path']}")
            if self.tracer is not None
            else None
        )
        try:
            if span_cm is not None:
                with span_cm:
                    await self._call_app(scope, receive, send_wrapper)
            else:
                await self._call_app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            # The route template keeps label cardinality bounded; unmatched paths share one label.
            endpoint = getattr(route, "path", None) or "<unmatched>"
            self.metrics.in_progress.labels(method).dec()
            self.metrics.requests.labels(method, endpoint, str(status)).inc()
            self.metrics.latency.labels(method, endpoint).observe(elapsed)
            log.info(
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={
                    "method": method,
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            reset_request_id(token)

    async def _call_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Unexpected errors end here, inside the request-id context, so the 500 answer and the
        # log line carry the id (Starlette's outer error middleware would run after it is gone).
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error", extra={"path": scope["path"]})
            if started:
                raise  # the response is under way: nothing sensible can be sent any more
            response = problem_response(
                500,
                detail="An unexpected error occurred; quote the request id when reporting it.",
                instance=scope["path"],
            )
            await response(scope, receive, send)


class BodySizeLimitMiddleware:
    """Refuses request bodies over the limit with 413 problem+json.

    Uploads (multipart forms and raw ``application/octet-stream`` bodies, such as the chunks
    of a resumable upload) get the (larger) upload limit. A declared ``Content-Length`` over the
    limit is refused before reading; a chunked body is counted as it streams in.
    """

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int) -> None:
        self.app, self.max_body, self.max_upload = app, max_body, max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = _header(scope, b"content-type") or ""
        is_upload = content_type.startswith(("multipart/", "application/octet-stream"))
        limit = self.max_upload if is_upload else self.max_body
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = problem_response(
                413, detail=f"The request body exceeds the limit of {limit} bytes."
            )
            await response(scope, receive, send)
            return
        received = 0
        exceeded = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request" and not exceeded:
                received += len(message.get("body", b""))
                if received > limit:
                    # Hand the app an empty, final chunk; whatever it answers is replaced by
                    # the 413 below (raising here would surface as a 400 "parse error").
                    exceeded = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def replacing_send(message: Message) -> None:
            if not exceeded:
                await send(message)
            elif message["type"] == "http.response.start":
                too_large = problem_response(
                    413, detail=f"The request body exceeds the limit of {limit} bytes."
                )
                await too_large(scope, receive, send)

        await self.app(scope, limited_receive, replacing_send)
