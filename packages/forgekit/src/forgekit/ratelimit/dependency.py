"""FastAPI integration: ``Depends(rate_limit("projects:create", parse_rate("30/minute"), key))``."""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.requests import HTTPConnection

from forgekit.errors import TooManyRequests
from forgekit.ratelimit.base import RateLimiter
from forgekit.ratelimit.decision import RateLimitDecision, headers
from forgekit.ratelimit.rate import Rate, parse_rate

KeyFunc = Callable[[HTTPConnection], str | Awaitable[str]]
"""Returns the principal a request counts against, e.g. ``user:42``, ``key:7``, ``ip:1.2.3.4``."""

STATE_ATTR = "rate_limit"
"""``request.state.rate_limit`` holds the most restrictive decision taken for the request."""


def get_rate_limiter(app: FastAPI) -> RateLimiter:
    """Return the limiter installed on ``app.state.rate_limiter`` at startup."""
    limiter = getattr(app.state, "rate_limiter", None)
    if not isinstance(limiter, RateLimiter):
        raise RuntimeError("app.state.rate_limiter is not set; create it at startup")
    return limiter


def client_ip_key(request: HTTPConnection) -> str:
    """``ip:<addr>`` of the peer, for anonymous requests (behind a proxy, configure uvicorn's
    ``--forwarded-allow-ips`` so the peer address is the client's, not the proxy's)."""
    host = request.client.host if request.client else "unknown"
    return f"ip:{host}"


def _more_restrictive(new: RateLimitDecision, old: RateLimitDecision | None) -> bool:
    if old is None:
        return True
    return (new.remaining, -new.reset_after_s) < (old.remaining, -old.reset_after_s)


async def enforce(
    request: HTTPConnection, response: Response, scope: str, rate: Rate, principal: str
) -> RateLimitDecision:
    """Count one request of ``principal`` against ``rate`` in ``scope``.

    Raises :class:`~forgekit.errors.TooManyRequests` when denied; otherwise sets the
    ``RateLimit-*`` headers on ``response`` (see :func:`rate_limit`) and returns the decision.
    """
    limiter = get_rate_limiter(request.app)
    decision = await limiter.hit(f"{scope}:{principal}", rate)
    previous: RateLimitDecision | None = getattr(request.state, STATE_ATTR, None)
    restrictive = _more_restrictive(decision, previous)
    if restrictive:
        setattr(request.state, STATE_ATTR, decision)
    if not decision.allowed:
        retry_after = max(1, math.ceil(decision.retry_after_s))
        raise TooManyRequests(
            f"Rate limit {rate} exceeded for {scope}; retry in {retry_after} s.",
            headers=headers(decision),
            retry_after=retry_after,
        )
    if restrictive:
        response.headers.update(headers(decision))
    return decision


def rate_limit(
    scope: str, rate: Rate | str, key_func: KeyFunc
) -> Callable[[Request, Response], Awaitable[RateLimitDecision]]:
    """Build a dependency that counts each request against ``rate`` per ``scope`` and principal.

    Allowed requests get ``RateLimit-*`` headers on the response (when the endpoint returns
    data rather than its own ``Response``; the decision is also left on
    ``request.state.rate_limit`` for middleware). Denied requests raise
    :class:`~forgekit.errors.TooManyRequests` carrying the headers and ``Retry-After``. With
    several limits on one route, the headers describe the most restrictive.
    """
    parsed = parse_rate(rate) if isinstance(rate, str) else rate

    async def dependency(request: Request, response: Response) -> RateLimitDecision:
        principal = key_func(request)
        if inspect.isawaitable(principal):
            principal = await principal
        return await enforce(request, response, scope, parsed, principal)

    return dependency
