"""Running ruff once per analysis, over all files, for the analyzers that route its rules.

ruff is the reference for style (pycodestyle, pyflakes, ...) and security (flake8-bandit's
``S`` rules). It runs as a subprocess with ``--isolated`` so that the analysed project's own
ruff configuration cannot change what PyForge reports (the rule selection is PyForge's), and
with ``--no-cache`` so that nothing is written into the analysed tree. ``# noqa`` comments are
honoured by ruff itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

FORMAT_CODE = "FORMAT"


@lru_cache(maxsize=1)
def find_ruff() -> str | None:
    """Path of the ruff executable (the one installed with this interpreter first)."""
    packaged = _packaged_ruff()
    if packaged is not None:
        return packaged
    candidate = Path(sys.executable).parent / "ruff"
    if candidate.is_file():
        return str(candidate)
    return shutil.which("ruff")


@lru_cache(maxsize=1)
def _packaged_ruff() -> str | None:
    """The executable of the ``ruff`` package installed with this interpreter, if any."""
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

        return os.fsdecode(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        return None


@lru_cache(maxsize=1)
def ruff_version() -> str:
    """ruff's version string ("" when ruff is missing); part of the cache key."""
    exe = find_ruff()
    if exe is None:
        return ""
    if exe == _packaged_ruff():
        # The package's version is its binary's: no process to start on every run.
        from pyforge.analysis.plugins import version

        found = version("ruff")
        if found:
            return f"ruff {found}"
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv, our own tool
            [exe, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


@lru_cache(maxsize=1)
def rule_metadata() -> dict[str, dict[str, Any]]:
    """ruff's documentation of every rule, by code (empty when ruff is missing)."""
    exe = find_ruff()
    if exe is None:
        return {}
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv, our own tool
            [exe, "rule", "--all", "--output-format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        data = json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError):
        return {}
    return {
        item["code"]: item
        for item in data
        if isinstance(item, dict) and isinstance(item.get("code"), str)
    }


@dataclass
class RuffDiagnostic:
    """One ruff diagnostic, positions 1-based."""

    code: str
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    fix: str | None = None


@dataclass
class RuffRun:
    """A ruff check (and optional format check) running in the background."""

    check: subprocess.Popen[bytes] | None
    fmt: subprocess.Popen[bytes] | None
    root: Path
    errors: list[str] = field(default_factory=list)

    def results(self) -> dict[str, list[RuffDiagnostic]]:
        """Wait for ruff; diagnostics keyed by absolute file path."""
        out: dict[str, list[RuffDiagnostic]] = {}
        if self.check is not None:
            stdout, stderr = self.check.communicate()
            self._parse(stdout, stderr, out, "ruff check")
        if self.fmt is not None:
            stdout, stderr = self.fmt.communicate()
            self._parse_format(stdout, stderr, out)
        return out

    def _parse(
        self,
        stdout: bytes,
        stderr: bytes,
        out: dict[str, list[RuffDiagnostic]],
        what: str,
    ) -> None:
        try:
            items = json.loads(stdout or b"[]")
        except json.JSONDecodeError:
            tail = (stderr or stdout).decode("utf-8", "replace").strip().splitlines()
            self.errors.append(f"{what} failed: {tail[-1] if tail else 'no output'}")
            return
        for item in items:
            diagnostic = _diagnostic(item)
            if diagnostic is not None:
                # os.path: one call per diagnostic, thousands on a large tree.
                path = os.path.abspath(item["filename"])  # noqa: PTH100
                out.setdefault(path, []).append(diagnostic)

    def _parse_format(
        self, stdout: bytes, stderr: bytes, out: dict[str, list[RuffDiagnostic]]
    ) -> None:
        """``ruff format --check``'s GitLab report: one "would be reformatted" per file.

        That report gives the span of the first change without its replacement text, which
        the JSON report carries as a fix (the whole reformatted region, ~12 MB for the
        standard library, to be written, piped and decoded for nothing).
        """
        try:
            items = json.loads(stdout or b"[]")
        except json.JSONDecodeError:
            tail = (stderr or stdout).decode("utf-8", "replace").strip().splitlines()
            self.errors.append(f"ruff format failed: {tail[-1] if tail else 'no output'}")
            return
        root = str(self.root)
        for item in items:
            location = item.get("location") or {}
            positions = location.get("positions") or {}
            begin, end = positions.get("begin") or {}, positions.get("end") or {}
            row = int(begin.get("line") or 1)
            # Paths under ruff's working directory (the root) come relative to it.
            path = os.path.abspath(os.path.join(root, location.get("path", "")))  # noqa: PTH100, PTH118
            out.setdefault(path, []).append(
                RuffDiagnostic(
                    code=FORMAT_CODE,
                    message=str(item.get("description", "")).partition(": ")[2]
                    or "File would be reformatted by 'ruff format'.",
                    line=row,
                    column=int(begin.get("column") or 1),
                    end_line=int(end.get("line") or row),
                    end_column=int(end.get("column") or 0),
                )
            )


def _diagnostic(item: dict[str, Any]) -> RuffDiagnostic | None:
    """One entry of ruff's JSON output (``None`` for syntax errors: PyForge reports those)."""
    code = item.get("code")
    if not code:
        return None
    loc, end = item.get("location") or {}, item.get("end_location") or {}
    edits = (item.get("fix") or {}).get("edits") or []
    row = int(loc.get("row") or 1)
    return RuffDiagnostic(
        code=code,
        message=item.get("message") or "File would be reformatted by 'ruff format'.",
        line=row,
        column=int(loc.get("column") or 1),
        end_line=int(end.get("row") or row),
        end_column=int(end.get("column") or 0),
        fix=edits[0].get("content") if len(edits) == 1 else None,
    )


def start(
    files: Sequence[str],
    *,
    root: Path,
    select: Sequence[str],
    ignore: Sequence[str] = (),
    line_length: int = 88,
    target_version: str = "py311",
    format_check: bool = False,
    extra_args: Sequence[str] = (),
) -> RuffRun:
    """Start ruff over ``files`` in the background (a no-op run when nothing is selected)."""
    exe = find_ruff()
    run = RuffRun(None, None, root)
    if not files or (not select and not format_check):
        return run
    if exe is None:
        run.errors.append("ruff is not installed: style and security rules were skipped")
        return run
    common = ["--isolated", "--no-cache", "--line-length", str(line_length)]
    if select:
        argv = [exe, "check", *common, "--output-format", "json", "--exit-zero",
                "--target-version", target_version, "--select", ",".join(select)]  # fmt: skip
        if ignore:
            argv += ["--ignore", ",".join(ignore)]
        argv += [*extra_args, "--", *files]
        run.check = subprocess.Popen(  # noqa: S603 - argv built from our own settings
            argv, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    if format_check:
        argv = [exe, "format", "--check", *common, "--output-format", "gitlab",
                "--target-version", target_version, "--", *files]  # fmt: skip
        # The GitLab report's paths are relative to CI_PROJECT_DIR when it is set (in a GitLab
        # job): drop it so that they are relative to the working directory, the root.
        env = {k: v for k, v in os.environ.items() if k != "CI_PROJECT_DIR"}
        run.fmt = subprocess.Popen(  # noqa: S603 - argv built from our own settings
            argv, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
    return run
