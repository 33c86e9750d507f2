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
            self._parse(stdout, stderr, out, "ruff format", fmt=True)
        return out

    def _parse(
        self,
        stdout: bytes,
        stderr: bytes,
        out: dict[str, list[RuffDiagnostic]],
        what: str,
        *,
        fmt: bool = False,
    ) -> None:
        try:
            items = json.loads(stdout or b"[]")
        except json.JSONDecodeError:
            tail = (stderr or stdout).decode("utf-8", "replace").strip().splitlines()
            self.errors.append(f"{what} failed: {tail[-1] if tail else 'no output'}")
            return
        for item in items:
            diagnostic = _diagnostic(item, fmt=fmt)
            if diagnostic is not None:
                # os.path: one call per diagnostic, thousands on a large tree.
                path = os.path.abspath(item["filename"])  # noqa: PTH100
                out.setdefault(path, []).append(diagnostic)


def _diagnostic(item: dict[str, Any], *, fmt: bool) -> RuffDiagnostic | None:
    """One entry of ruff's JSON output (``None`` for syntax errors: PyForge reports those)."""
    code = item.get("code")
    if not code:
        return None
    loc, end = item.get("location") or {}, item.get("end_location") or {}
    edits = (item.get("fix") or {}).get("edits") or []
    row = int(loc.get("row") or 1)
    return RuffDiagnostic(
        code=FORMAT_CODE if fmt else code,
        message=item.get("message") or "File would be reformatted by 'ruff format'.",
        line=row,
        column=int(loc.get("column") or 1),
        end_line=int(end.get("row") or row),
        end_column=int(end.get("column") or 0),
        fix=edits[0].get("content") if len(edits) == 1 and not fmt else None,
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
        argv = [exe, "format", "--check", *common, "--output-format", "json",
                "--target-version", target_version, "--", *files]  # fmt: skip
        run.fmt = subprocess.Popen(  # noqa: S603 - argv built from our own settings
            argv, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    return run
