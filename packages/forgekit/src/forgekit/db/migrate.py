"""Run Alembic migrations programmatically, for the kit and a product together.

The kit's migrations are one Alembic branch (label ``forgekit``); each product adds its own
branch that depends on the kit's, and ``upgrade heads`` brings both up in order. The same
revisions run on SQLite (batch mode) and PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

KIT_VERSIONS = Path(str(resources.files("forgekit") / "migrations" / "versions"))


def alembic_config(database_url: str, version_dirs: Sequence[Path] = ()) -> Config:
    """An Alembic config over the kit's env and the given product version directories."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("forgekit") / "migrations"))
    locations = [KIT_VERSIONS, *version_dirs]
    # os.pathsep-separated; paths here never contain the separator.
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    cfg.attributes["database_url"] = database_url
    return cfg


def _ensure_sqlite_dir(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def upgrade(database_url: str, version_dirs: Sequence[Path] = (), target: str = "heads") -> None:
    """Bring the database up to ``target`` (all branch heads by default)."""
    _ensure_sqlite_dir(database_url)
    command.upgrade(alembic_config(database_url, version_dirs), target)


def downgrade(database_url: str, version_dirs: Sequence[Path] = (), target: str = "base") -> None:
    """Take the database down to ``target`` (empty schema by default)."""
    command.downgrade(alembic_config(database_url, version_dirs), target)
