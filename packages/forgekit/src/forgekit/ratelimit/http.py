"""The app-wide default limit that :func:`forgekit.app.create_app` puts on every route.

It counts against ``settings.rate_limit_default`` in the ``default`` scope. App-level
dependencies run before a route's own (authentication included), so the principal comes from
``app.state.rate_limit_key`` when the app sets one (a :data:`KeyFunc`, e.g. one reading the
bearer token) and is the client address otherwise. Routes add tighter limits with
:func:`~forgekit.ratelimit.rate_limit`.
"""

from __future__ import annotations

import inspect
from functools import lru_cache
from typing import Any

from fastapi import Response, WebSocketException, status
from starlette.requests import HTTPConnection

from forgekit.errors import TooManyRequests
from forgekit.ratelimit.decision import RateLimitDecision
from forgekit.ratelimit.dependency import KeyFunc, client_ip_key, enforce
from forgekit.ratelimit.rate import Rate, parse_rate

DEFAULT_SCOPE = "default"


@lru_cache(maxsize=32)
def _rate(text: str) -> Rate:
    return parse_rate(text)


def _settings_rate(request: HTTPConnection) -> Rate | None:
    runtime: Any = getattr(request.app.state, "runtime", None)
    text = getattr(getattr(runtime, "settings", None), "rate_limit_default", None)
    return _rate(text) if isinstance(text, str) and text else None


async def default_rate_limit(
    connection: HTTPConnection, response: Response
) -> RateLimitDecision | None:
    """Apply the configured default limit; a no-op when the app has no default rate.

    Typed ``HTTPConnection`` so that it also runs for WebSocket routes, where FastAPI supplies
    no ``Request``: a WebSocket handshake counts like a request, and a refused one is closed
    with 1008 (policy violation) instead of an HTTP 429.
    """
    rate = _settings_rate(connection)
    if rate is None:
        return None
    key_func: KeyFunc = getattr(connection.app.state, "rate_limit_key", None) or client_ip_key
    principal = key_func(connection)
    if inspect.isawaitable(principal):
        principal = await principal
    # One bucket per principal *and route*, so a burst on one endpoint does not starve others.
    route = getattr(connection.scope.get("route"), "path", None) or connection.url.path
    try:
        return await enforce(connection, response, f"{DEFAULT_SCOPE}:{route}", rate, principal)
    except TooManyRequests as exc:
        if connection.scope["type"] == "websocket":
            raise WebSocketException(status.WS_1008_POLICY_VIOLATION, exc.detail) from None
        raise
