"""FastAPI dependencies shared by every router (``Annotated`` aliases)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings


def get_runtime(request: HTTPConnection) -> Runtime:
    """The app's :class:`Runtime` (set by the app factory)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_settings(request: Request) -> ForgeSettings:
    """The app's kit settings."""
    return get_runtime(request).settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A database session for one request.

    Services commit explicitly (so the outbox row and the change share the transaction);
    whatever is left uncommitted when the request ends is rolled back.
    """
    async with get_runtime(request).db.session() as session:
        yield session


# The dependencies are ``async def`` wrappers: FastAPI runs a plain ``def`` dependency in its
# thread pool, a thread hop (and GIL hand-over) on every request for an attribute lookup.
async def _runtime_dependency(request: Request) -> Runtime:
    return get_runtime(request)


async def _settings_dependency(request: Request) -> ForgeSettings:
    return get_runtime(request).settings


RuntimeDep = Annotated[Runtime, Depends(_runtime_dependency)]
SettingsDep = Annotated[ForgeSettings, Depends(_settings_dependency)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
