"""Shop's migrations (kit + product branches) run up and down and match the models."""

from shop.product import PRODUCT

from forgekit.testing.migrations import assert_down_and_up, assert_schema_matches_models


async def test_migrated_schema_matches_models(database_url: str) -> None:
    await assert_schema_matches_models(database_url, ())


async def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    await assert_down_and_up(database_url, PRODUCT, {"users"})
