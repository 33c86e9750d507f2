"""Domain errors and their RFC 9457 ``application/problem+json`` rendering.

Services raise a :class:`ProblemError` subclass; one set of handlers (installed by
:func:`install_error_handlers`) turns every error — ours, FastAPI's validation errors, Starlette's
HTTP errors and anything unexpected — into a problem document with a stable ``type`` URI.
No stack trace ever reaches a client: an unexpected error is logged with the request id and
answered 500 with that id.
"""

from __future__ import annotations

import errno
import logging
from contextvars import ContextVar, Token
from typing import Any

import redis.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from forgekit.observability.context import get_request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"
#: Base of the ``type`` URIs of the app handling the current request (set per request by the
#: observability middleware from the product's settings, so each product names its own).
_problem_base: ContextVar[str] = ContextVar("forge_problem_base", default="/problems/")


def problem_base() -> str:
    """The base of problem ``type`` URIs for the current request."""
    return _problem_base.get()


def set_problem_base(base: str) -> Token[str]:
    """Set the problem ``type`` base for the current context (the middleware does, per app)."""
    return _problem_base.set(base)

log = logging.getLogger("forgekit.errors")


class ProblemError(Exception):
    """Base of every domain error; carries what the problem document needs."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extensions = extensions

    @property
    def type_uri(self) -> str:
        """The stable ``type`` member of the problem document."""
        return problem_base() + self.slug


class BadRequest(ProblemError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extensions)


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(ProblemError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class Unprocessable(ProblemError):
    status, slug, title = 422, "validation-error", "Validation error"


class TooManyRequests(ProblemError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class ServiceUnavailable(ProblemError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


class InsufficientStorage(ProblemError):
    status, slug, title = 507, "insufficient-storage", "Insufficient storage"


#: ``errno`` values of a full disk or an exhausted quota.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


_STATUS_SLUGS: dict[int, tuple[str, str]] = {
    cls.status: (cls.slug, cls.title)
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        Unprocessable,
        TooManyRequests,
        ServiceUnavailable,
        InsufficientStorage,
    )
}
_STATUS_SLUGS[405] = ("method-not-allowed", "Method not allowed")
_STATUS_SLUGS[406] = ("not-acceptable", "Not acceptable")
_STATUS_SLUGS[500] = ("internal-error", "Internal server error")


#: The OpenAPI ``default`` response of every operation: any status not documented otherwise is
#: an RFC 9457 problem document (clients and schema fuzzers can rely on the shape).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "default": {
        "description": "An error, as an RFC 9457 problem document.",
        "content": {
            PROBLEM_CONTENT_TYPE: {
                "schema": {
                    "type": "object",
                    "title": "Problem",
                    "required": ["type", "title", "status"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "instance": {"type": "string"},
                        "request_id": {"type": ["string", "null"]},
                        "errors": {"type": "array", "items": {"type": "object"}},
                    },
                }
            }
        },
    }
}


def problem_response(
    status: int,
    *,
    slug: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """Build a problem+json response; ``request_id`` is always included for support."""
    default_slug, default_title = _STATUS_SLUGS.get(status, ("http-error", "HTTP error"))
    body: dict[str, Any] = {
        "type": problem_base() + (slug or default_slug),
        "title": title or default_title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body["request_id"] = get_request_id()
    body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_CONTENT_TYPE)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        errors.append(
            {
                # "body.email" reads better than a list, and matches what clients display.
                "field": ".".join(loc),
                "message": str(err.get("msg", "invalid")),
                "type": str(err.get("type", "invalid")),
            }
        )
    return errors


async def _handle_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        **exc.extensions,
    )


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc)
    malformed = any(e["type"] == "json_invalid" for e in errors)
    return problem_response(
        400 if malformed else 422,
        slug="malformed-json" if malformed else "validation-error",
        title="Malformed JSON body" if malformed else "Validation error",
        detail="The request body is not valid JSON."
        if malformed
        else "The request has invalid fields.",
        instance=request.url.path,
        errors=errors,
    )


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str | None:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    methods = [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]
    return ", ".join(methods) if methods else None


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = allowed
    return problem_response(
        exc.status_code,
        detail=detail,
        instance=request.url.path,
        headers=headers,
    )


async def _handle_backend_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # A refused or lost connection (database, Redis), an exhausted pool or SQLite's "database
    # is locked" after the busy timeout is a transient condition of the server, not a bug in
    # the request: say so and invite a retry, without the backend's own message.
    log.warning("backend unavailable: %s", exc.__class__.__name__, extra={"error": str(exc)[:300]})
    return problem_response(
        503,
        detail="A backend service is temporarily unavailable; retry shortly.",
        instance=request.url.path,
        headers={"Retry-After": "1"},
    )


async def _handle_dbapi_error(request: Request, exc: Exception) -> JSONResponse:
    # A driver error on a connection that turned out to be dead (server restarted, network
    # cut) is transient: SQLAlchemy has already dropped the connection from the pool.
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated:
        return await _handle_backend_unavailable(request, exc)
    return await _handle_unexpected(request, exc)


async def _handle_os_error(request: Request, exc: Exception) -> JSONResponse:
    # A full disk (local object storage, staging of an upload) is the server's condition, not
    # a bug: 507 with advice to retry later; the writer has already removed its partial file.
    assert isinstance(exc, OSError)
    if exc.errno in DISK_FULL:
        log.error("disk full: %s", exc, extra={"path": request.url.path})
        return problem_response(
            507,
            detail="The server has no space left to store this; retry later.",
            instance=request.url.path,
            headers={"Retry-After": "60"},
        )
    return await _handle_unexpected(request, exc)


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception(
        "unhandled error", extra={"path": request.url.path, "request_id": get_request_id()}
    )
    return problem_response(
        500,
        detail="An unexpected error occurred; quote the request id when reporting it.",
        instance=request.url.path,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every error of ``app`` through the problem+json renderers."""
    app.add_exception_handler(ProblemError, _handle_problem)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(DBAPIError, _handle_dbapi_error)
    for transient in (
        OperationalError,
        PoolTimeoutError,
        ConnectionError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
    ):
        app.add_exception_handler(transient, _handle_backend_unavailable)
    app.add_exception_handler(OSError, _handle_os_error)
    app.add_exception_handler(Exception, _handle_unexpected)
