"""Migrations run up and down on both databases, and match the models exactly."""

import asyncio

from forgekit.db import Base, migrate
from forgekit.testing.migrations import schema_diff, table_names


def _kit_tables() -> set[str]:
    # Products' tables share Base.metadata when their tests run in the same session; the kit's
    # migrations are only answerable for the kit's own tables.
    return {
        m.local_table.name for m in Base.registry.mappers if m.class_.__module__.startswith("forgekit.")
    }


def _kit_only(obj, name, type_, reflected, compare_to) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is None or table.name in _kit_tables()


async def test_migrated_schema_matches_models(database_url: str) -> None:
    diff = await schema_diff(database_url, _kit_only)
    assert diff == [], f"models and migrations differ: {diff}"


async def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    before = await table_names(database_url)
    assert {"users", "outbox_messages", "audit_logs"} <= before
    await asyncio.to_thread(migrate.downgrade, database_url)
    assert await table_names(database_url) <= {"alembic_version"}
    await asyncio.to_thread(migrate.upgrade, database_url)
    assert await table_names(database_url) == before
