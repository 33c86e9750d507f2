"""On-disk result cache: one JSON file per analysed file, keyed by everything that matters.

An entry holds one JSON document, or two on two lines: the value and an ``extra`` value that
is read only when asked for (a file's report, then its facts for the project checks), so that
a cold run creates one file per analysed file rather than two.

The key hashes the file's content (sha256), its root-relative path (findings carry it), the
effective rule settings for that path, and the run-wide digest (engine and analyzer versions,
ruff's version, analyzer options, Python version). JSON only: a cache must never be a way to
run code (no pickle).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CACHE_FORMAT = "v2"
DEFAULT_CACHE_DIR = ".pyforge-cache"
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
#: Temporary names are unique per process (and per fork: see _reset_pid_token) and per write.
_COUNTER = itertools.count()
_PID_TOKEN = f"{os.getpid()}-"


def _reset_pid_token() -> None:
    global _PID_TOKEN
    _PID_TOKEN = f"{os.getpid()}-"


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_pid_token)


def make_key(*parts: str) -> str:
    """Combine key parts into one hex digest."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class Cache:
    """A directory of cached results; all operations are best-effort and never raise."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory / CACHE_FORMAT if directory is not None else None
        self._prepared = False
        self._dirs: set[str] = set()
        self._behind = False
        self._writer: threading.Thread | None = None
        self._queue: queue.SimpleQueue[tuple[str, Any, Any] | None] = queue.SimpleQueue()

    @property
    def enabled(self) -> bool:
        """False when caching is off (``--no-cache``)."""
        return self.directory is not None

    def _path(self, key: str) -> str:
        assert self.directory is not None
        return f"{self.directory}/{key[:2]}/{key}.json"

    def get(self, key: str) -> Any | None:
        """The cached value, or None when missing or unreadable."""
        data = self._read(key)
        if data is None:
            return None
        end = data.find(b"\n")  # compact JSON holds no raw newline: it ends the value
        try:
            return json.loads(data if end < 0 else data[:end])
        except ValueError:
            return None

    def get_extra(self, key: str) -> Any | None:
        """The ``extra`` value stored with :meth:`put`, or None when missing or unreadable."""
        data = self._read(key)
        end = -1 if data is None else data.find(b"\n")
        if data is None or end < 0:
            return None
        try:
            return json.loads(data[end + 1 :])
        except ValueError:
            return None

    def _read(self, key: str) -> bytes | None:
        if self.directory is None:
            return None
        try:
            with open(self._path(key), "rb") as fh:  # noqa: PTH123 - hot path
                return fh.read()
        except OSError:
            return None

    @contextmanager
    def writing_behind(self) -> Iterator[None]:
        """Within the block, :meth:`put` hands each write to a background thread.

        A cold run writes thousands of entries; file creation waits on the disk, which on a
        busy machine held up the merging of results. The thread starts on the first put (after
        a ``fork`` pool has started its workers: no thread is running when they fork) and every
        write is done when the block exits.
        """
        self._behind = True
        try:
            yield
        finally:
            self._behind = False
            if self._writer is not None:
                self._queue.put(None)
                self._writer.join()
                self._writer = None

    def put(self, key: str, value: Any, extra: Any = None) -> None:
        """Store a value (and an ``extra`` one, read apart by :meth:`get_extra`, unless None);
        an existing entry is replaced atomically (temporary file, rename)."""
        if self.directory is None:
            return
        if self._behind:
            if self._writer is None:
                self._writer = threading.Thread(target=self._drain, name="pyforge-cache",
                                                daemon=True)  # fmt: skip
                self._writer.start()
            self._queue.put((key, value, extra))
            return
        self._put_now(key, value, extra)

    def _drain(self) -> None:
        while (item := self._queue.get()) is not None:
            self._put_now(*item)

    def _put_now(self, key: str, value: Any, extra: Any = None) -> None:
        try:
            # json.dumps (not json.dump): only the one-shot form uses the C encoder. Values are
            # plain trees of dicts and lists: no cycle to look for.
            payload = json.dumps(value, separators=(",", ":"), check_circular=False).encode()
            if extra is not None:
                payload += b"\n" + json.dumps(extra, separators=(",", ":"),
                                               check_circular=False).encode()  # fmt: skip
        except (TypeError, ValueError):
            return
        self.put_bytes(key, payload)

    def put_bytes(self, key: str, payload: bytes) -> None:
        """Store an already serialised value (see :meth:`put`)."""
        if self.directory is None:
            return
        target = self._path(key)
        parent = os.path.dirname(target)  # noqa: PTH120 - hot path
        try:
            if parent not in self._dirs:
                if not self._prepared:
                    self._prepare()
                os.makedirs(parent, exist_ok=True)  # noqa: PTH103 - hot path
                self._dirs.add(parent)
            # A cold run creates thousands of entries, and on a busy disk each file-system
            # operation counts: a new key is written in place (created exclusively, so two
            # writers never interleave). A reader that catches it half-written sees invalid
            # JSON, which is a miss like any other, and keys are content-addressed: whoever
            # writes a key writes the same bytes.
            fd = os.open(target, _CREATE_FLAGS, 0o644)
        except FileExistsError:
            self._replace(target, payload)  # a stale or damaged entry being rewritten
            return
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(target)  # noqa: PTH108 - never leave a truncated entry behind

    @staticmethod
    def _replace(target: str, payload: bytes) -> None:
        """Overwrite an entry atomically: a temporary file, then a rename."""
        tmp = f"{target}.{_PID_TOKEN}{next(_COUNTER)}.tmp"
        try:
            fd = os.open(tmp, _CREATE_FLAGS, 0o644)
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(tmp, target)  # noqa: PTH105 - string paths
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)  # noqa: PTH108

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
