"""Full-text and typo-tolerant search over models' name, title, description and tags.

Hand-written (autogenerate cannot express it) and kept out of ``migrations/versions`` so that
regenerating ``modelhub_0001`` never deletes it; it depends on that revision.

* PostgreSQL: a stored generated ``search_document`` column (``to_tsvector('simple', ...)``)
  with a GIN index, which :mod:`modelhub.search.service` queries and ranks on, and pg_trgm with
  trigram GIN indexes on title and name.
* SQLite: an FTS5 table ``market_models_fts`` kept in sync by triggers (typos are matched by
  trigram similarity computed in Python, the same measure as pg_trgm's).

Revision ID: modelhub_search_0001
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "modelhub_search_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("modelhub_search",)
depends_on: str | Sequence[str] | None = "modelhub_0001"

PG_DOCUMENT = (
    "to_tsvector('simple'::regconfig, coalesce(name, '') || ' ' || coalesce(title, '') || ' ' "
    "|| coalesce(description, '') || ' ' || coalesce(tags::text, ''))"
)
PG = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Stored, so that ranking reads the vector instead of re-parsing every matching row.
    "ALTER TABLE market_models ADD COLUMN IF NOT EXISTS search_document tsvector "
    f"GENERATED ALWAYS AS ({PG_DOCUMENT}) STORED",
    "CREATE INDEX IF NOT EXISTS ix_market_models_search ON market_models "
    "USING gin (search_document)",
    "CREATE INDEX IF NOT EXISTS ix_market_models_title_trgm ON market_models "
    "USING gin (title gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_market_models_name_trgm ON market_models "
    "USING gin (name gin_trgm_ops)",
]
_COLUMNS = "model_id, name, title, description, tags"
_VALUES = "new.id, new.name, new.title, new.description, coalesce(new.tags, '')"
SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS market_models_fts USING fts5(model_id UNINDEXED, name, "
    "title, description, tags, tokenize = 'unicode61 remove_diacritics 2')",
    "DELETE FROM market_models_fts",
    f"INSERT INTO market_models_fts ({_COLUMNS}) SELECT id, name, title, description, "  # noqa: S608
    "coalesce(tags, '') FROM market_models",
    "CREATE TRIGGER IF NOT EXISTS market_models_fts_insert AFTER INSERT ON market_models BEGIN "  # noqa: S608 (DDL from constants)
    f"INSERT INTO market_models_fts ({_COLUMNS}) VALUES ({_VALUES}); END",
    "CREATE TRIGGER IF NOT EXISTS market_models_fts_update AFTER UPDATE OF name, title, "  # noqa: S608 (DDL from constants)
    "description, tags ON market_models BEGIN "
    "DELETE FROM market_models_fts WHERE model_id = old.id; "
    f"INSERT INTO market_models_fts ({_COLUMNS}) VALUES ({_VALUES}); END",
    "CREATE TRIGGER IF NOT EXISTS market_models_fts_delete AFTER DELETE ON market_models BEGIN "
    "DELETE FROM market_models_fts WHERE model_id = old.id; END",
]


def upgrade() -> None:
    for statement in PG if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for index in ("ix_market_models_search", "ix_market_models_title_trgm",
                      "ix_market_models_name_trgm"):  # fmt: skip
            op.execute(f"DROP INDEX IF EXISTS {index}")
        op.execute("ALTER TABLE market_models DROP COLUMN IF EXISTS search_document")
        return
    for trigger in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS market_models_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS market_models_fts")
