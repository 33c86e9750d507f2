"""Refuse text no database stores faithfully: NUL characters and unpaired surrogates.

``"\\u0000"`` and ``"\\ud800"`` are valid JSON escapes, so a parser hands them to the app as
ordinary strings; PostgreSQL then refuses the NUL (a 500 after a half-done request), SQLite
stores it (a name that no client can display or match), and an unpaired surrogate cannot even
be encoded as UTF-8. One app-wide dependency checks the query, the path, JSON bodies and
url-encoded forms before any handler runs, and answers 422 naming the field.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from starlette.requests import HTTPConnection

from forgekit.errors import Unprocessable

#: JSON bodies larger than this are not re-read here (the routes taking large bodies stream
#: files, whose bytes are not text fields).
MAX_CHECKED_BODY = 1024 * 1024
_FORM = "application/x-www-form-urlencoded"


def invalid_text(value: str) -> bool:
    """True when ``value`` holds a NUL character or an unpaired surrogate."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _first_invalid(document: Any) -> str | None:
    """The path (``a.b.0``) of the first invalid string in a JSON document, iteratively."""
    stack: list[tuple[str, Any]] = [("body", document)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, str):
            if invalid_text(node):
                return where
        elif isinstance(node, dict):
            for key, value in node.items():
                if invalid_text(key):
                    return where
                stack.append((f"{where}.{key}", value))
        elif isinstance(node, list):
            stack.extend((f"{where}.{i}", value) for i, value in enumerate(node))
    return None


def _refuse(where: str) -> Unprocessable:
    return Unprocessable(
        "Text must not contain NUL characters or unpaired surrogates.",
        errors=[{"field": where, "message": "invalid characters", "type": "invalid_text"}],
    )


async def _json_body(request: Request) -> Any:
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > MAX_CHECKED_BODY:
        return None
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError):
        return None  # malformed: the route's own parsing answers 400


async def reject_invalid_text(connection: HTTPConnection) -> None:
    """App-wide dependency: 422 when any text input carries NUL or an unpaired surrogate.

    It is typed on the connection, not the request, because app-wide dependencies also run for
    WebSocket routes (whose query and path are checked the same way; they have no body).
    """
    params = [*connection.query_params.multi_items(), *connection.path_params.items()]
    for name, value in params:
        if invalid_text(name) or invalid_text(str(value)):
            raise _refuse(f"query.{name}")
    if not isinstance(connection, Request):
        return
    request = connection
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        where = _first_invalid(await _json_body(request))
        if where is not None:
            raise _refuse(where)
    elif content_type == _FORM:
        for name, value in (await request.form()).multi_items():
            if isinstance(value, str) and (invalid_text(name) or invalid_text(value)):
                raise _refuse(f"body.{name}")
