"""Checks every package's migration tests share: schema == models, and the tables present."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from forgekit.db import Base

#: Alembic's include_object hook: (object, name, type_, reflected, compare_to) -> keep it?
IncludeObject = Callable[[Any, str | None, str, bool, Any], bool]


async def schema_diff(database_url: str, include: IncludeObject | None = None) -> list[Any]:
    """What autogenerate would still change to make the database match ``Base.metadata``."""
    opts: dict[str, Any] = {"compare_type": True}
    if include is not None:
        opts["include_object"] = include

    def diff(sync_conn: Any) -> list[Any]:
        ctx = MigrationContext.configure(sync_conn, opts=opts)
        return list(compare_metadata(ctx, Base.metadata))

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(diff)
    finally:
        await engine.dispose()


async def table_names(database_url: str) -> set[str]:
    """The tables in the database."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
