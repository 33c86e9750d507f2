"""Shop's migrations (kit + product branches) run up and down and match the models."""

from shop.product import PRODUCT

from forgekit.testing.migrations import assert_down_and_up, assert_schema_matches_models

# Hand-written search objects that autogenerate cannot express (shop_search_0001).
SEARCH_OBJECTS = (
    "shop_products_fts",
    "ix_shop_products_search",
    "ix_shop_products_name_trgm",
    "search_document",
)


async def test_migrated_schema_matches_models(database_url: str) -> None:
    await assert_schema_matches_models(database_url, SEARCH_OBJECTS)


async def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    await assert_down_and_up(database_url, PRODUCT, {"users", "shop_products", "shop_variants"})
