"""Regenerate a package's initial Alembic revision from its models (pre-release only).

Usage: python scripts/regen_migration.py forgekit|pyforge

Until the first release each package keeps one initial revision with a fixed id, regenerated
from the models whenever they change, so parallel work never forks the revision graph. After a
release, new revisions are added with ``alembic revision --autogenerate`` as usual.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
from pathlib import Path

from alembic import command

from forgekit.db.migrate import KIT_VERSIONS, alembic_config

PACKAGES = {
    # name: (revision id, models module, versions dir, depends_on)
    "forgekit": ("forgekit_0001", "forgekit.models", KIT_VERSIONS, None),
}


def _product(name: str) -> tuple[str, str, Path, str | None]:
    mod = importlib.import_module(f"{name}.db")
    return (f"{name}_0001", f"{name}.models", Path(mod.MIGRATIONS_DIR), "forgekit_0001")


def main() -> None:
    """Regenerate the initial revision of the package named on the command line."""
    name = sys.argv[1]
    rev, models, versions, depends = PACKAGES.get(name) or _product(name)
    for old in versions.glob(f"{rev}_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/gen.db"
        extra = [] if name == "forgekit" else [versions]
        cfg = alembic_config(url, extra)
        if name != "forgekit":
            command.upgrade(cfg, "forgekit@head")
        importlib.import_module(models)
        command.revision(
            cfg,
            message=f"{name} initial schema",
            autogenerate=True,
            rev_id=rev,
            head="base",
            branch_label=name,
            version_path=str(versions),
            depends_on=depends,
        )
    print(f"regenerated {rev} in {versions}")


if __name__ == "__main__":
    main()
