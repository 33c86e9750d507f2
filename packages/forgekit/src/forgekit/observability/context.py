"""Per-request context (the request id) shared by logs, errors and events."""

from __future__ import annotations

from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("forge_request_id", default=None)


def get_request_id() -> str | None:
    """The id of the request being served, if any."""
    return _request_id.get()


def set_request_id(value: str | None) -> object:
    """Set the current request id; returns a token for :func:`reset_request_id`."""
    return _request_id.set(value)


def reset_request_id(token: object) -> None:
    """Restore the request id that was current before :func:`set_request_id`."""
    _request_id.reset(token)  # type: ignore[arg-type]
