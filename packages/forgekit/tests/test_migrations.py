"""Migrations run up and down on both databases, and match the models exactly."""

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from forgekit.db import Base, migrate


def _kit_tables() -> set[str]:
    # Products' tables share Base.metadata when their tests run in the same session; the kit's
    # migrations are only answerable for the kit's own tables.
    return {
        m.local_table.name
        for m in Base.registry.mappers
        if m.class_.__module__.startswith("forgekit.")
    }


def _diff(sync_conn):
    kit = _kit_tables()

    def include(obj, name, type_, reflected, compare_to) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name in kit

    ctx = MigrationContext.configure(
        sync_conn, opts={"compare_type": True, "include_object": include}
    )
    return compare_metadata(ctx, Base.metadata)


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    return names


async def test_migrated_schema_matches_models(database_url: str) -> None:
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    await engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


async def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    before = await _tables(database_url)
    assert {"users", "outbox_messages", "audit_logs"} <= before
    await asyncio.to_thread(migrate.downgrade, database_url)
    assert await _tables(database_url) <= {"alembic_version"}
    await asyncio.to_thread(migrate.upgrade, database_url)
    assert await _tables(database_url) == before
