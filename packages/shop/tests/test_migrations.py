"""Shop's migrations (kit + product branches) run up and down and match the models."""

import asyncio
from typing import Any

from shop.product import PRODUCT
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

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


async def test_review_sentiment_revision_down_and_up(database_url: str) -> None:
    # shop_0008 adds nullable columns to shop_reviews; going back to shop_0007 drops them and
    # keeps the table's constraints and indexes (SQLite rebuilds the table to drop a column).
    added = {"edited_at", "sentiment_label", "sentiment_probability", "sentiment_aspects",
             "language", "sentiment_model_version", "sentiment_scored_at"}  # fmt: skip

    async def reviews_table() -> tuple[set[str], set[str], set[str]]:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as conn:

                def read(sync: Any) -> tuple[set[str], set[str], set[str]]:
                    insp = inspect(sync)
                    cols = {c["name"] for c in insp.get_columns("shop_reviews")}
                    idx = {i["name"] for i in insp.get_indexes("shop_reviews")}
                    uniq = {u["name"] for u in insp.get_unique_constraints("shop_reviews")}
                    uniq |= {c["name"] for c in insp.get_check_constraints("shop_reviews")}
                    return cols, idx, uniq

                return await conn.run_sync(read)
        finally:
            await engine.dispose()

    cols, idx, uniq = await reviews_table()
    assert added <= cols
    await asyncio.to_thread(PRODUCT.downgrade, database_url, "shop_0007")
    down_cols, down_idx, down_uniq = await reviews_table()
    assert down_cols == cols - added
    assert (down_idx, down_uniq) == (idx, uniq)
    assert "ix_shop_reviews_product_status" in down_idx
    await asyncio.to_thread(PRODUCT.upgrade, database_url)
    assert await reviews_table() == (cols, idx, uniq)
