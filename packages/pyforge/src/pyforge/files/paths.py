"""Normalising the paths of a project's tree: relative POSIX paths that cannot escape it."""

from __future__ import annotations

import re
import unicodedata

from pyforge.files.models import PATH_MAX

#: Longest single path component (the common file-system limit).
COMPONENT_MAX = 255

_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafePath(ValueError):
    """A path that is not a plain relative path inside the tree; the message says why."""


def normalize_path(raw: str) -> str:
    """``raw`` as a normalised relative POSIX path, or :class:`UnsafePath`.

    Refused: empty paths, control characters (NUL included), backslashes (a Windows separator
    that other tools would follow), absolute paths, drive letters, and any ``..`` component.
    ``.`` and empty components are dropped (``./src//a.py`` is ``src/a.py``), and the text is
    put in Unicode NFC so that one name has one spelling.
    """
    if any(unicodedata.category(ch) == "Cc" for ch in raw):
        raise UnsafePath("contains a control character")
    if "\\" in raw:
        raise UnsafePath("contains a backslash")
    if raw.startswith("/"):
        raise UnsafePath("is absolute")
    if _DRIVE.match(raw):
        raise UnsafePath("starts with a drive letter")
    parts = [p for p in unicodedata.normalize("NFC", raw).split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UnsafePath("leaves the project tree ('..')")
    if not parts:
        raise UnsafePath("is empty")
    if any(len(p) > COMPONENT_MAX for p in parts):
        raise UnsafePath(f"has a component longer than {COMPONENT_MAX} characters")
    path = "/".join(parts)
    if len(path) > PATH_MAX:
        raise UnsafePath(f"is longer than {PATH_MAX} characters")
    return path


def tree_conflicts(paths: set[str]) -> list[str]:
    """Paths that are also a directory of another path (``a`` and ``a/b``): not a tree."""
    conflicts = []
    for path in paths:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            if "/".join(parts[:depth]) in paths:
                conflicts.append(path)
                break
    return sorted(conflicts)
