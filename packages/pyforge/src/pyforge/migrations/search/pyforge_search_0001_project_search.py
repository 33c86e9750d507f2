"""Full-text search over projects' name and description.

Hand-written (autogenerate cannot express it) and kept out of ``migrations/versions`` so that
regenerating ``pyforge_0001`` never deletes or orphans it; it depends on that revision.

* PostgreSQL: a GIN index on the ``to_tsvector('simple', ...)`` expression that
  :mod:`pyforge.projects.search` queries (the two must stay textually identical).
* SQLite: an FTS5 table ``projects_fts`` kept in sync by triggers. A later migration that
  rebuilds ``projects`` in batch mode drops the triggers with the old table: call
  :func:`create_sqlite_search` again after it.

Revision ID: pyforge_search_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "pyforge_search_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("pyforge_search",)
depends_on: str | Sequence[str] | None = "pyforge_0001"

PG_SEARCH_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_projects_search ON projects USING gin "
    "(to_tsvector('simple'::regconfig, "
    "coalesce(name, '') || ' ' || coalesce(description, '')))"
)

SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS projects_fts USING fts5("
    "project_id UNINDEXED, name, description, tokenize = 'unicode61 remove_diacritics 2')",
    "DELETE FROM projects_fts",
    "INSERT INTO projects_fts (project_id, name, description) "
    "SELECT id, name, coalesce(description, '') FROM projects",
    "CREATE TRIGGER IF NOT EXISTS projects_fts_insert AFTER INSERT ON projects BEGIN "
    "INSERT INTO projects_fts (project_id, name, description) "
    "VALUES (new.id, new.name, coalesce(new.description, '')); END",
    "CREATE TRIGGER IF NOT EXISTS projects_fts_update AFTER UPDATE OF name, description "
    "ON projects BEGIN "
    "DELETE FROM projects_fts WHERE project_id = old.id; "
    "INSERT INTO projects_fts (project_id, name, description) "
    "VALUES (new.id, new.name, coalesce(new.description, '')); END",
    "CREATE TRIGGER IF NOT EXISTS projects_fts_delete AFTER DELETE ON projects BEGIN "
    "DELETE FROM projects_fts WHERE project_id = old.id; END",
]


def create_sqlite_search() -> None:
    """(Re)create the FTS5 table, its contents and its triggers on SQLite."""
    for statement in SQLITE_SEARCH:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_SEARCH_INDEX)
    else:
        create_sqlite_search()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_projects_search")
    else:
        for trigger in ("projects_fts_insert", "projects_fts_update", "projects_fts_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS projects_fts")
