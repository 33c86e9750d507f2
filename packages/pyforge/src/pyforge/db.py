"""PyForge's database wiring: its migration branch on top of the kit's."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from forgekit.db import migrate

MIGRATIONS_DIR = Path(str(resources.files("pyforge") / "migrations" / "versions"))


def upgrade(database_url: str) -> None:
    """Apply the kit's and PyForge's migrations."""
    migrate.upgrade(database_url, [MIGRATIONS_DIR])


def downgrade(database_url: str, target: str = "base") -> None:
    """Revert PyForge's and the kit's migrations down to ``target``."""
    migrate.downgrade(database_url, [MIGRATIONS_DIR], target)
