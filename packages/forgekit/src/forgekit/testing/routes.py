"""Walk an app's routes: every HTTP operation, called anonymously, must answer 401.

Replaces hand-kept URL tables: a route added without authentication fails the test of every
product that calls :func:`assert_routes_need_auth`, unless it is on the explicit allow-list.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute

#: The kit's public operations ("METHOD path"): probes, metrics, sign-up/in and the one-time
#: token flows (their token is the credential), and signed storage downloads.
KIT_PUBLIC = frozenset(
    {
        "GET /live",
        "GET /ready",
        "GET /health",
        "GET /health/detailed",
        # Scraped by Prometheus without credentials; deploy/ keeps it inside the cluster.
        "GET /metrics",
        "POST /auth/register",
        "POST /auth/login",
        "POST /auth/token",
        "POST /auth/refresh",
        # The browser session: sign-in takes the form, refresh and sign-out the cookies.
        "POST /auth/session",
        "POST /auth/session/refresh",
        "DELETE /auth/session",
        # The second step of an MFA login: the challenge token is the credential.
        "POST /auth/mfa/verify",
        "POST /auth/session/mfa",
        "GET /auth/verify-email",
        "POST /auth/verify-email",
        "GET /auth/password-reset",
        "POST /auth/password-reset",
        "POST /auth/password-reset/request",
        "GET /storage/{key}",
    }
)

_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def _api_routes(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            # FastAPI >= 0.160 keeps an included router as one entry wrapping the original.
            context = getattr(route, "include_context", None)
            inner = prefix + str(getattr(context, "prefix", ""))
            yield from _api_routes(route.original_router.routes, inner)


def http_operations(app: FastAPI) -> Iterator[tuple[str, str, str]]:
    """``(method, path template, concrete path)`` of every HTTP operation of ``app``."""
    for raw, route in _api_routes(app.routes):
        # The template as OpenAPI writes it: a convertor (``{id:uuid}``) is routing detail.
        path = _PARAM.sub(r"{\1}", raw)
        concrete = _PARAM.sub(lambda m, r=route: _sample(r, m.group(1)), path)  # type: ignore[misc]
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, path, concrete


def _sample(route: APIRoute, name: str) -> str:
    for param in route.dependant.path_params:
        if param.name != name:
            continue
        annotation = getattr(param.field_info, "annotation", None)
        if annotation is int:
            return "1"
        if annotation is str:
            return "x"
    return str(uuid.uuid4())


async def assert_routes_need_auth(
    client: httpx.AsyncClient, app: FastAPI, public: Collection[str] = ()
) -> int:
    """Call every operation of ``app`` without credentials; each must answer 401
    problem+json unless ``"METHOD path"`` is in :data:`KIT_PUBLIC` or ``public``.

    Returns how many operations were checked (so a caller can assert the walk saw routes).
    """
    # Compared as OpenAPI writes templates: an entry may name a route's raw path (``{x:path}``).
    allowed = {_PARAM.sub(r"{\1}", entry) for entry in KIT_PUBLIC | set(public)}
    failures, checked = [], 0
    for method, template, path in http_operations(app):
        if f"{method} {template}" in allowed:
            continue
        resp = await client.request(method, path, json={} if method != "GET" else None)
        checked += 1
        if resp.status_code != 401 or not resp.headers.get("content-type", "").startswith(
            "application/problem+json"
        ):
            failures.append(f"{method} {template} -> {resp.status_code}")
    assert not failures, "operations open to anonymous callers:\n" + "\n".join(failures)
    return checked
