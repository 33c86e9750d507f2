"""OpenAPI: declare the authentication of operations where it is optional.

FastAPI lists an operation's security schemes whenever one of its dependencies reads them, so
a public route that only *looks* for a caller (``OptionalPrincipal``: a catalogue page that
shows staff its drafts) is documented as requiring a credential, and a client (or
schemathesis' ``ignored_auth`` check) expects 401 without one. OpenAPI says "optional" with an
empty requirement: ``security: [{}, {HTTPBearer: []}, ...]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from forgekit.identity.deps import (
    get_current_principal,
    get_mfa_setup_principal,
    get_optional_principal,
)

#: Dependencies that refuse a caller without credentials (every kit guard goes through one).
_REQUIRING: tuple[Callable[..., Any], ...] = (get_current_principal, get_mfa_setup_principal)


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    found: set[Callable[..., Any]] = set()
    for sub in dependant.dependencies:
        if sub.call is not None:
            found.add(sub.call)
        found |= _calls(sub)
    return found


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route as the schema sees it (router dependencies included)."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:  # FastAPI before routers were included lazily
        yield from (r for r in app.routes if isinstance(r, APIRoute))
        return
    for context in contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def auth_is_optional(route: Any) -> bool:
    """True when the route looks for a caller but admits anonymous ones."""
    calls = _calls(route.dependant)
    return get_optional_principal in calls and not any(c in calls for c in _REQUIRING)


def _mark_optional(schema: dict[str, Any], path: str, methods: Any) -> None:
    operations = schema.get("paths", {}).get(path, {})
    for method in methods:
        op = operations.get(method.lower())
        if op and op.get("security") and {} not in op["security"]:
            op["security"] = [{}, *op["security"]]


def document_optional_auth(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI schema mark optional authentication (built once, on first use)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for route in _api_routes(app):
            if route.include_in_schema and auth_is_optional(route):
                _mark_optional(schema, route.path_format, route.methods or ())
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
