"""The training corpus: functions of the standard library and installed packages, read offline.

Files are read and parsed, never imported. Every file belongs to a *package* (a stdlib
top-level module, or a site-packages top-level package; a vendored copy such as
``pip/_vendor/rich`` belongs to the package it copies), and the train/validation/test split is
by package, so no function of a test package is seen in training. Twelve projects are kept out
of every split: they are the evaluation ground for real bugs.
"""

from __future__ import annotations

import hashlib
import random
import site
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# The 12 held-back projects, by every top-level name they install (attrs installs ``attr`` too,
# black ships ``blib2to3`` and ``blackd``, pytest ships ``_pytest`` and the ``py`` shim).
EXCLUDED_PROJECTS = (
    "requests", "flask", "click", "jinja2", "werkzeug", "httpx", "attrs", "black", "tornado",
    "pytest", "marshmallow", "rich",
)  # fmt: skip
EXCLUDED_NAMES = frozenset(
    {*EXCLUDED_PROJECTS, "attr", "blib2to3", "blackd", "_black_version", "_pytest", "py"}
)
_SKIP_DIRS = frozenset({"__pycache__", "site-packages", "dist-packages", "idlelib", "lib2to3"})
SPLITS = ("train", "val", "test")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One ``.py`` file and the package it is split with."""

    path: Path
    package: str


def is_excluded(path: Path) -> bool:
    """True when any component of the path names a held-back project (vendored copies too)."""
    return any(part.removesuffix(".py").lower() in EXCLUDED_NAMES for part in path.parts)


def split_of(package: str) -> str:
    """The split of a package: a stable hash, 80 % train, 10 % validation, 10 % test."""
    bucket = int(hashlib.sha256(package.encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 80 else "val" if bucket < 90 else "test"


def _roots() -> list[tuple[str, Path]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    roots: list[tuple[str, Path]] = [("stdlib", stdlib)]
    seen = {stdlib.resolve()}
    base = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})
    for p in [*site.getsitepackages(), *sys.path, base["purelib"]]:
        path = Path(p)
        is_site = path.name in ("site-packages", "dist-packages") and path.is_dir()
        if is_site and path.resolve() not in seen:
            seen.add(path.resolve())
            roots.append(("site", path))
    return roots


def _package_of(kind: str, rel: Path) -> str:
    parts = rel.parts
    if "_vendor" in parts:  # pip/_vendor/x/... is package x, wherever it is vendored
        i = parts.index("_vendor")
        if i + 1 < len(parts):
            return parts[i + 1].removesuffix(".py")
    name = parts[0].removesuffix(".py")
    return f"stdlib.{name}" if kind == "stdlib" else name


def iter_source_files() -> Iterator[SourceFile]:
    """Every readable ``.py`` file of the stdlib and site-packages, excluded projects left out.

    A package installed twice (system and virtualenv) is read from the first root only.
    """
    owners: dict[str, Path] = {}
    for kind, root in _roots():
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root)
            if _SKIP_DIRS.intersection(rel.parts[:-1]) or is_excluded(rel):
                continue
            package = _package_of(kind, rel)
            owner = owners.setdefault(package, root)
            if owner != root:
                continue
            yield SourceFile(path, package)


def iter_heldback_files() -> Iterator[SourceFile]:
    """Files of the held-back projects (vendored copies included), for the real-code check only.

    Never used for training, validation or tuning: only the shipped model is run over them.
    """
    owners: dict[str, Path] = {}
    for kind, root in _roots():
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root)
            project = _package_of(kind, rel).lower()
            # Only the projects' own packages (and vendored copies), not every file that
            # happens to be named like one (sqlalchemy/event/attr.py, starlette/requests.py).
            if _SKIP_DIRS.intersection(rel.parts[:-1]) or project not in EXCLUDED_NAMES:
                continue
            where = f"{project}:{rel.parts[0]}"
            if owners.setdefault(where, root) != root:
                continue
            yield SourceFile(path, project)


def files_by_split(seed: int) -> dict[str, dict[str, list[SourceFile]]]:
    """Files grouped by split then package, each package's files shuffled with ``seed``."""
    out: dict[str, dict[str, list[SourceFile]]] = {s: {} for s in SPLITS}
    for f in iter_source_files():
        out[split_of(f.package)].setdefault(f.package, []).append(f)
    rng = random.Random(seed)  # noqa: S311 - data sampling, not security
    for packages in out.values():
        for files in packages.values():
            rng.shuffle(files)
    return out


def read_source(path: Path) -> str | None:
    """A file's text, or ``None`` when it is not UTF-8 (or unreadable)."""
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
