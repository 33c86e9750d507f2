"""modelhub_0002 alone goes down and up again without touching search's objects, and dates
models published before it."""

import asyncio
import uuid
from datetime import UTC, datetime

from modelhub.product import PRODUCT
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from forgekit.testing.migrations import table_names

NEW_TABLES = {"model_usage", "model_reviews", "model_ratings"}
UPDATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def _columns(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT * FROM market_models LIMIT 0"))
            return set(rows.keys())
    finally:
        await engine.dispose()


async def _execute(url: str, sql: str, **params: object) -> list[tuple]:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return [tuple(r) for r in result.all()] if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_revision_downgrades_and_upgrades_alone(database_url: str) -> None:
    assert NEW_TABLES <= await table_names(database_url)
    # Down to modelhub_0001: every later revision (billing, part 2's tables, then 0002) reverts.
    # Absolute targets, so that a new revision on top does not move what the test reverts.
    await asyncio.to_thread(PRODUCT.downgrade, database_url, "modelhub_0001")
    assert not NEW_TABLES & await table_names(database_url)
    assert "published_at" not in await _columns(database_url)
    sqlite = database_url.startswith("sqlite")
    # A model published before the revision.
    owner, model = uuid.uuid4(), uuid.uuid4()
    ids = {"o": owner.hex if sqlite else owner, "m": model.hex if sqlite else model}
    await _execute(database_url, "INSERT INTO users (id, email, username, password_hash, role, "
                   "is_active, is_verified, created_at, updated_at) VALUES (:o, 'a@example.com', "
                   "'alice', 'x', 'publisher', true, true, :t, :t)", o=ids["o"], t=UPDATED)  # fmt: skip
    await _execute(database_url, "INSERT INTO market_models (id, owner_id, namespace, name, title, "
                   "description, task, framework, license, tags, pricing, metadata, visibility, "
                   "status, downloads, created_at, updated_at) VALUES (:m, :o, 'alice', 'm', 'M', "
                   "'findme', 't', 'onnx', 'mit', '[]', '{}', '{}', 'public', 'published', 0, :t, "
                   ":t)", m=ids["m"], o=ids["o"], t=UPDATED)  # fmt: skip
    await asyncio.to_thread(PRODUCT.upgrade, database_url)
    assert NEW_TABLES <= await table_names(database_url)
    published = await _execute(database_url, "SELECT published_at FROM market_models")
    assert len(published) == 1 and published[0][0] is not None
    # Search's hand-written objects survived both directions (no table rebuild).
    if sqlite:
        found = await _execute(database_url, "SELECT model_id FROM market_models_fts "
                               "WHERE market_models_fts MATCH 'findme'")  # fmt: skip
        assert len(found) == 1
        triggers = await _execute(database_url, "SELECT name FROM sqlite_master WHERE type = "
                                  "'trigger' AND name LIKE 'market_models_fts_%'")  # fmt: skip
        assert len(triggers) == 3
    else:
        found = await _execute(database_url, "SELECT id FROM market_models WHERE search_document "
                               "@@ to_tsquery('simple', 'findme')")  # fmt: skip
        assert len(found) == 1


PART2_TABLES = {"usage_events", "usage_hourly", "model_grants", "inference_jobs", "purchases"}
BILLING_TABLES = {"payment_events", "billing_invoices", "billing_customers",
                  "billing_subscriptions"}  # fmt: skip


async def test_part2_revision_downgrades_and_upgrades_alone(database_url: str) -> None:
    assert PART2_TABLES <= await table_names(database_url)
    # Down to modelhub_0003: billing (0004 and what came after it) goes, part 2's tables stay.
    await asyncio.to_thread(PRODUCT.downgrade, database_url, "modelhub_0003")
    tables = await table_names(database_url)
    assert not BILLING_TABLES & tables
    assert PART2_TABLES <= tables
    await asyncio.to_thread(PRODUCT.downgrade, database_url, "modelhub_0002")
    tables = await table_names(database_url)
    assert not PART2_TABLES & tables
    assert NEW_TABLES <= tables  # modelhub_0002's stay
    await asyncio.to_thread(PRODUCT.upgrade, database_url)
    assert PART2_TABLES | BILLING_TABLES <= await table_names(database_url)
