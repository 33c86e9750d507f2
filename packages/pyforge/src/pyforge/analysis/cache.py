"""On-disk result cache: one JSON file per analysed file, keyed by everything that matters.

The key hashes the file's content (sha256), its root-relative path (findings carry it), the
effective rule settings for that path, and the run-wide digest (engine and analyzer versions,
ruff's version, analyzer options, Python version). JSON only: a cache must never be a way to
run code (no pickle).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

CACHE_FORMAT = "v1"
DEFAULT_CACHE_DIR = ".pyforge-cache"


def make_key(*parts: str) -> str:
    """Combine key parts into one hex digest."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class Cache:
    """A directory of cached results; all operations are best-effort and never raise."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory / CACHE_FORMAT if directory is not None else None
        self._prepared = False

    @property
    def enabled(self) -> bool:
        """False when caching is off (``--no-cache``)."""
        return self.directory is not None

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        """The cached value, or None when missing or unreadable."""
        if self.directory is None:
            return None
        try:
            return json.loads(self._path(key).read_bytes())
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: Any) -> None:
        """Store a value atomically (write to a temporary file, then rename)."""
        if self.directory is None:
            return
        target = self._path(key)
        try:
            if not self._prepared:
                self._prepare()
            target.parent.mkdir(parents=True, exist_ok=True)
            # json.dumps (not json.dump): only the one-shot form uses the C encoder.
            payload = json.dumps(value, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError):
            return
        import tempfile

        tmp: Path | None = None
        try:
            fd, name = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            tmp = Path(name)
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            tmp.replace(target)
        except OSError:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink()

    def _prepare(self) -> None:
        assert self.directory is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        top = self.directory.parent
        # Keep the cache out of version control and out of backups, like other tools do.
        for name, content in (
            (".gitignore", "*\n"),
            ("CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n"),
        ):
            marker = top / name
            if not marker.exists():
                marker.write_text(content, encoding="utf-8")
        self._prepared = True
