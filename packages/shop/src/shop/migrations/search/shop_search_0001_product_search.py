"""Full-text and typo-tolerant search over products' name, description and attributes.

Hand-written (autogenerate cannot express it) and kept out of ``migrations/versions`` so that
regenerating ``shop_0001`` never deletes it; it depends on that revision.

* PostgreSQL: a stored generated ``search_document`` column (``to_tsvector('simple', ...)``)
  with a GIN index, and pg_trgm (its ``similarity()`` is the typo fallback) with a trigram GIN
  index on the name.
* SQLite: an FTS5 table ``shop_products_fts`` kept in sync by triggers (typos are matched by
  trigram similarity computed in Python, the same measure as pg_trgm's).

Revision ID: shop_search_0001
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "shop_search_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("shop_search",)
depends_on: str | Sequence[str] | None = "shop_0001"

PG_DOCUMENT = (
    "to_tsvector('simple'::regconfig, coalesce(name, '') || ' ' || coalesce(description, '') "
    "|| ' ' || coalesce(attributes::text, ''))"
)
PG = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE shop_products ADD COLUMN IF NOT EXISTS search_document tsvector "
    f"GENERATED ALWAYS AS ({PG_DOCUMENT}) STORED",
    "CREATE INDEX IF NOT EXISTS ix_shop_products_search ON shop_products "
    "USING gin (search_document)",
    "CREATE INDEX IF NOT EXISTS ix_shop_products_name_trgm ON shop_products "
    "USING gin (name gin_trgm_ops)",
]
_COLUMNS = "product_id, name, description, attributes"
_VALUES = "new.id, new.name, new.description, coalesce(new.attributes, '')"
SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS shop_products_fts USING fts5(product_id UNINDEXED, "
    "name, description, attributes, tokenize = 'unicode61 remove_diacritics 2')",
    "DELETE FROM shop_products_fts",
    f"INSERT INTO shop_products_fts ({_COLUMNS}) SELECT id, name, description, "  # noqa: S608
    "coalesce(attributes, '') FROM shop_products",
    "CREATE TRIGGER IF NOT EXISTS shop_products_fts_insert AFTER INSERT ON shop_products BEGIN "  # noqa: S608 (DDL from constants)
    f"INSERT INTO shop_products_fts ({_COLUMNS}) VALUES ({_VALUES}); END",
    "CREATE TRIGGER IF NOT EXISTS shop_products_fts_update AFTER UPDATE OF name, description, "  # noqa: S608 (DDL from constants)
    "attributes ON shop_products BEGIN "
    "DELETE FROM shop_products_fts WHERE product_id = old.id; "
    f"INSERT INTO shop_products_fts ({_COLUMNS}) VALUES ({_VALUES}); END",
    "CREATE TRIGGER IF NOT EXISTS shop_products_fts_delete AFTER DELETE ON shop_products BEGIN "
    "DELETE FROM shop_products_fts WHERE product_id = old.id; END",
]


def upgrade() -> None:
    for statement in PG if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for index in ("ix_shop_products_search", "ix_shop_products_name_trgm"):
            op.execute(f"DROP INDEX IF EXISTS {index}")
        op.execute("ALTER TABLE shop_products DROP COLUMN IF EXISTS search_document")
        return
    for trigger in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS shop_products_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS shop_products_fts")
