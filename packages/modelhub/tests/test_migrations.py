"""Modelhub's migrations (kit + product branches) run up and down and match the models."""

import asyncio

from modelhub.product import PRODUCT

from forgekit.testing.migrations import schema_diff, table_names

# Hand-written search objects that autogenerate cannot express (modelhub_search_0001).
SEARCH_OBJECTS = ("market_models_fts", "ix_market_models_search", "ix_market_models_title_trgm",
                  "ix_market_models_name_trgm", "search_document")


def _without_search(obj, name, type_, reflected, compare_to) -> bool:
    return not (name and name.startswith(SEARCH_OBJECTS))


async def test_migrated_schema_matches_models(database_url: str) -> None:
    diff = await schema_diff(database_url, _without_search)
    assert diff == [], f"models and migrations differ: {diff}"


async def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    before = await table_names(database_url)
    assert {"users", "market_models"} <= before
    await asyncio.to_thread(PRODUCT.downgrade, database_url)
    assert await table_names(database_url) <= {"alembic_version"}
    await asyncio.to_thread(PRODUCT.upgrade, database_url)
    assert await table_names(database_url) == before
