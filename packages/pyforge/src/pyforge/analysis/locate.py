"""Locating the configuration file and the analysis root.

Standard library only: the run cache (:mod:`pyforge.analysis.runcache`) needs both to find its
entry, before (and, when it answers, instead of) importing the engine.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CONFIG_FILES = ("pyforge.toml", "pyproject.toml")


class ConfigError(Exception):
    """The configuration is invalid; the message is one line meant for the user."""


def read_table(path: Path) -> dict[str, Any] | None:
    """The pyforge table of a config file, or None when a pyproject.toml has none."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("pyforge")
        return table if isinstance(table, dict) else None
    return data


def config_candidates(start: Path) -> list[Path]:
    """Every file :func:`find_config` may look at from ``start``, nearest first."""
    here = start if start.is_dir() else start.parent
    return [directory / name for directory in (here, *here.parents) for name in CONFIG_FILES]


def find_config(start: Path) -> Path | None:
    """The nearest ``pyforge.toml`` or ``pyproject.toml`` with a pyforge table, upwards."""
    for candidate in config_candidates(start):
        if candidate.is_file() and read_table(candidate) is not None:
            return candidate
    return None


def absolute(path: Path) -> Path:
    """Lexically absolute and normalised ('..' folded) without resolving symlinks, which costs
    a system call per path component."""
    return Path(os.path.normpath(path.absolute()))


def resolve_root(paths: Sequence[Path], config_source: Path | None) -> Path:
    """The directory findings are relative to: the config's, the cwd's, or the paths' common one."""
    paths_abs = [absolute(p) for p in paths]
    if config_source is not None:
        base = config_source.parent.absolute()
        if all(p == base or base in p.parents for p in paths_abs):
            return base
    cwd = Path.cwd()
    if all(p == cwd or cwd in p.parents for p in paths_abs):
        return cwd
    parents = [p if p.is_dir() else p.parent for p in paths_abs]
    return Path(os.path.commonpath([str(p) for p in parents]))
