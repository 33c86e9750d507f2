"""PyForge's migrations (kit + product branches) run up and down and match the models."""

import pyforge.models  # noqa: F401
from forgekit.testing.migrations import assert_down_and_up, assert_schema_matches_models
from pyforge.product import PRODUCT

# Hand-written full-text search objects that autogenerate cannot express (see pyforge/db.py).
SEARCH_OBJECTS = ("projects_fts", "ix_projects_search")


async def test_migrated_schema_matches_models(database_url: str) -> None:
    await assert_schema_matches_models(database_url, SEARCH_OBJECTS)


async def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    await assert_down_and_up(database_url, PRODUCT, {"users", "projects", "project_files", "analyses"})
