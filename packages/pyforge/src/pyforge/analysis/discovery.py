"""Finding the files to analyse: directory walk, excludes, ``.gitignore``, ``--changed-since``.

Directory symlinks are not followed (so symlink loops cannot trap the walk); file symlinks are
followed once and de-duplicated by their real path. Problems with single files (broken links,
loops, permissions) become notes; only a path argument that does not exist is an input error.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pyforge.analysis.config import Config
from pyforge.analysis.locate import absolute
from pyforge.analysis.locate import resolve_root as resolve_root
from pyforge.analysis.report import Note

if TYPE_CHECKING:
    import pathspec

#: Directory names never descended into (ruff's default excludes, plus PyForge's cache).
DEFAULT_EXCLUDED_DIRS = frozenset({
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints",
    ".mypy_cache", ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache",
    ".svn", ".tox", ".venv", ".vscode", "__pypackages__", "_build", "buck-out", "build", "dist",
    "node_modules", "site-packages", "venv", "__pycache__", ".pyforge-cache",
})  # fmt: skip
PYTHON_SUFFIXES = (".py", ".pyi")


class InputError(Exception):
    """A problem with the command's input (exit code 2); the message is one line."""


@dataclass
class Discovery:
    """The files to analyse, as (absolute path, root-relative posix path), and notes."""

    files: list[tuple[str, str]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    #: directories walked, and the ``.gitignore`` files looked for (present or not): what the
    #: result depends on besides the files themselves (for the run cache).
    dirs: list[str] = field(default_factory=list)
    ignore_files: list[str] = field(default_factory=list)
    #: paths left out as a second link to a file already listed.
    duplicates: list[str] = field(default_factory=list)


def relative(path: str, root: Path) -> str:
    """``path`` relative to ``root`` with '/' separators (absolute if outside the root)."""
    prefix = str(root).rstrip(os.sep) + os.sep
    if path.startswith(prefix) and ".." not in path:
        rel = path[len(prefix) :]
        return rel if os.sep == "/" else rel.replace(os.sep, "/")
    rel = os.path.relpath(path, root)
    if rel.startswith(".."):
        return Path(path).as_posix()
    return Path(rel).as_posix()


def _spec(lines: Iterable[str]) -> pathspec.GitIgnoreSpec:
    import pathspec  # imported when a pattern exists: start-up of a one-file run stays short

    return pathspec.GitIgnoreSpec.from_lines(lines)


class _Ignores:
    """Config excludes (relative to the root) and every ``.gitignore`` met on the way down."""

    def __init__(self, root: Path, config: Config) -> None:
        self.root = root
        self.exclude = _spec(config.exclude) if config.exclude else None
        self.use_gitignore = config.respect_gitignore
        self.gitignores: dict[str, pathspec.GitIgnoreSpec] = {}
        self.visited: set[str] = set()

    def load_dir(self, directory: str) -> None:
        if not self.use_gitignore or directory in self.visited:
            return
        self.visited.add(directory)
        try:
            with (Path(directory) / ".gitignore").open(encoding="utf-8", errors="replace") as fh:
                self.gitignores[directory] = _spec(fh)
        except OSError:
            return

    def ignored(self, path: str, is_dir: bool) -> bool:
        suffix = "/" if is_dir else ""
        if self.exclude is not None:
            rel = relative(path, self.root)
            if not rel.startswith("/") and self.exclude.match_file(rel + suffix):
                return True
        for directory, spec in self.gitignores.items():
            if path.startswith(directory + os.sep):
                rel = os.path.relpath(path, directory).replace(os.sep, "/")
                if spec.match_file(rel + suffix):
                    return True
        return False


def discover(paths: Sequence[Path], root: Path, config: Config) -> Discovery:
    """Expand the path arguments into the Python files to analyse."""
    walk = _Walk(root, _Ignores(root, config))
    for p in paths:
        if not os.path.lexists(p):
            raise InputError(f"path does not exist: {p}")
        walk.load_parent_ignores(Path(p))
    for p in paths:
        top = absolute(Path(p))
        if top.is_dir():
            walk.directory(top)
        else:
            walk.add(top)  # an explicit file is analysed even if excluded
    return walk.result()


class _Walk:
    """One discovery: the files found so far, and the ``.gitignore`` files that apply."""

    def __init__(self, root: Path, ignores: _Ignores) -> None:
        self.root = root
        self.ignores = ignores
        self.out = Discovery()
        self.seen: set[tuple[int, int]] = set()

    def load_parent_ignores(self, path: Path) -> None:
        """Read the ``.gitignore`` files between the root and a path argument: they apply."""
        parent = absolute(path).parent
        root, ignores = self.root, self.ignores
        while str(parent) not in ignores.visited and (parent == root or root in parent.parents):
            ignores.load_dir(str(parent))
            parent = parent.parent

    def add(self, path: Path) -> None:
        """List one file, unless it is unreadable, not a regular file or listed already."""
        out = self.out
        try:
            st = path.stat()  # follows file symlinks; a loop or a dangling link raises
        except OSError as exc:
            reason = "symlink loop" if exc.errno == errno.ELOOP else exc.strerror or "unreadable"
            out.notes.append(Note(relative(str(path), self.root), f"skipped: {reason}"))
            return
        # The same file reached twice (through a link) is analysed once.
        identity = (st.st_dev, st.st_ino)
        if identity in self.seen:
            out.duplicates.append(str(path))
        elif not stat.S_ISREG(st.st_mode):
            self.seen.add(identity)
            out.notes.append(Note(relative(str(path), self.root), "skipped: not a regular file"))
        else:
            self.seen.add(identity)
            out.files.append((str(path), relative(str(path), self.root)))

    def directory(self, top: Path) -> None:
        """Walk a directory argument (links to directories are not followed)."""
        ignores = self.ignores
        for directory, dirs, files in os.walk(str(top), followlinks=False):
            ignores.load_dir(directory)
            self.out.dirs.append(directory)
            base = Path(directory)
            dirs[:] = sorted(d for d in dirs if self._descend(base / d))
            for name in sorted(files):
                if name.endswith(PYTHON_SUFFIXES) and not ignores.ignored(str(base / name), False):
                    self.add(base / name)

    def _descend(self, path: Path) -> bool:
        return (
            path.name not in DEFAULT_EXCLUDED_DIRS
            and not path.is_symlink()
            and not self.ignores.ignored(str(path), True)
        )

    def result(self) -> Discovery:
        """The files found, sorted by relative path, with the ignore files consulted."""
        out = self.out
        out.files.sort(key=lambda f: f[1])
        if self.ignores.use_gitignore:
            out.ignore_files = sorted(str(Path(d) / ".gitignore") for d in self.ignores.visited)
        return out


def changed_files(root: Path, ref: str) -> set[str]:
    """Root-relative paths changed since git ``ref`` (committed, staged, unstaged, untracked)."""
    commands = (
        ["git", "diff", "--name-only", "--relative", ref, "--"],
        ["git", "ls-files", "--others", "--exclude-standard"],
    )
    changed: set[str] = set()
    for argv in commands:
        try:
            proc = subprocess.run(  # noqa: S603 - fixed argv; ref is passed as one argument
                argv, cwd=root, capture_output=True, text=True, timeout=60, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise InputError(f"--changed-since needs git: {exc}") from None
        if proc.returncode != 0:
            detail = proc.stderr.strip().splitlines()
            raise InputError(f"--changed-since {ref}: {detail[0] if detail else 'git failed'}")
        changed.update(line.strip() for line in proc.stdout.splitlines() if line.strip())
    return changed
