"""Checks every package's migration tests share: schema == models, and the tables present."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from forgekit.db import Base

if TYPE_CHECKING:
    from forgekit.product import Product

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


def skipping(prefixes: tuple[str, ...]) -> IncludeObject:
    """An ``include_object`` hook leaving out objects named with ``prefixes`` (hand-written
    search objects that autogenerate cannot express)."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return not (name and name.startswith(prefixes))

    return include


async def assert_schema_matches_models(database_url: str, hand_written: tuple[str, ...]) -> None:
    """The migrated database is what the models declare (apart from ``hand_written`` objects)."""
    diff = await schema_diff(database_url, skipping(hand_written))
    assert diff == [], f"models and migrations differ: {diff}"


async def assert_down_and_up(
    database_url: str, product: Product[Any, Any], expected_tables: set[str]
) -> None:
    """Every migration reverts to an empty schema and applies again to the same tables."""
    before = await table_names(database_url)
    assert expected_tables <= before, expected_tables - before
    await asyncio.to_thread(product.downgrade, database_url)
    assert await table_names(database_url) <= {"alembic_version"}
    await asyncio.to_thread(product.upgrade, database_url)
    assert await table_names(database_url) == before
