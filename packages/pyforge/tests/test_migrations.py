"""PyForge's migrations (kit + product branches) run up and down and match the models."""

import asyncio

import pyforge.models  # noqa: F401
from forgekit.testing.migrations import schema_diff, table_names
from pyforge.product import PRODUCT

# Hand-written full-text search objects that autogenerate cannot express (see pyforge/db.py).
SEARCH_OBJECTS = ("projects_fts", "ix_projects_search")


def _without_search(obj, name, type_, reflected, compare_to) -> bool:
    return not (name and name.startswith(SEARCH_OBJECTS))


async def test_migrated_schema_matches_models(database_url: str) -> None:
    diff = await schema_diff(database_url, _without_search)
    assert diff == [], f"models and migrations differ: {diff}"


async def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    before = await table_names(database_url)
    assert {"users", "projects", "project_files", "analyses"} <= before
    await asyncio.to_thread(PRODUCT.downgrade, database_url)
    assert await table_names(database_url) <= {"alembic_version"}
    await asyncio.to_thread(PRODUCT.upgrade, database_url)
    assert await table_names(database_url) == before
