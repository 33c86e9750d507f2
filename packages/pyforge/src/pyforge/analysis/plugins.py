"""Entry points and package versions without :mod:`importlib.metadata` in the usual case.

Importing :mod:`importlib.metadata` (which pulls in ``email``, ``csv``, ``zipfile`` and more)
and scanning every distribution costs a one-file ``pyforge analyze`` about a fifth of its
start-up. Installed distributions normally live as ``NAME-VERSION.dist-info`` (or
``.egg-info``) directories in the ``sys.path`` directories; this module reads those directly,
with the same precedence as :mod:`importlib.metadata` (``sys.path`` order, ``.dist-info``
before ``.egg-info`` in one directory, the first distribution of a name wins). Anything else
on ``sys.path`` (a zip file, an ``.egg``) makes it defer to :mod:`importlib.metadata`.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")


@dataclass(frozen=True)
class EntryPoint:
    """The part of :class:`importlib.metadata.EntryPoint` the engine uses."""

    name: str
    value: str
    group: str

    def load(self) -> Any:
        """Import the module and return the named object (``module:attr.attr``)."""
        module, _, attrs = self.value.partition(":")
        obj: Any = importlib.import_module(module.strip())
        for attr in attrs.split("[", 1)[0].strip().split(".") if attrs else ():
            obj = getattr(obj, attr)
        return obj


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@lru_cache(maxsize=1)
def _distributions() -> tuple[tuple[str, str, str], ...] | None:
    """(normalised name, version, metadata directory) of every distribution on ``sys.path``,
    first of a name only; None when a path entry is of a kind only importlib knows."""
    seen: set[str] = set()
    out: list[tuple[str, str, str]] = []
    for entry in sys.path:
        base = entry or "."
        if os.path.isfile(base):  # noqa: PTH113 - a zip archive on sys.path
            return None
        try:
            names = os.listdir(base)  # noqa: PTH208 - names only, no Path objects
        except OSError:
            continue
        infos = [n for n in names if n.endswith(".dist-info")]
        eggs = [n for n in names if n.endswith(".egg-info")]
        if any(n.endswith(".egg") for n in names):
            return None
        for meta in (*infos, *eggs):
            stem = meta.rsplit(".", 1)[0]
            name, _, version = stem.partition("-")
            key = _normalise(name)
            if key not in seen:
                seen.add(key)
                out.append((key, version.split("-", 1)[0], os.path.join(base, meta)))  # noqa: PTH118
    return tuple(out)


def _read_group(path: str, group: str) -> list[tuple[str, str]]:
    """(name, value) of the entry points of ``group`` in an ``entry_points.txt``."""
    try:
        with open(path, encoding="utf-8") as fh:  # noqa: PTH123
            text = fh.read()
    except OSError:
        return []
    found: list[tuple[str, str]] = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        match = _SECTION.match(line)
        if match:
            section = match.group(1).strip()
        elif section == group and "=" in line:
            name, _, value = line.partition("=")
            found.append((name.strip(), value.strip()))
    return found


def entry_points(group: str) -> list[Any]:
    """The entry points of ``group`` of every installed distribution."""
    dists = _distributions()
    if dists is None:
        from importlib.metadata import entry_points as metadata_entry_points

        return list(metadata_entry_points(group=group))
    return [
        EntryPoint(name, value, group)
        for _key, _version, meta in dists
        for name, value in _read_group(os.path.join(meta, "entry_points.txt"), group)  # noqa: PTH118
    ]


def version(distribution: str) -> str | None:
    """The installed version of ``distribution`` (None when it is not installed)."""
    dists = _distributions()
    if dists is not None:
        key = _normalise(distribution)
        for name, found, _meta in dists:
            if name == key and found:
                return found
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as metadata_version

    try:
        return metadata_version(distribution)
    except PackageNotFoundError:
        return None
