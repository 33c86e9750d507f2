"""Type checking with mypy (optional): mypy's errors become findings.

Off by default because it needs mypy installed (``pip install pyforge[mypy]``) and the
analysed project's dependencies to give meaningful results. Enable it with
``enable = ["mypy"]`` in ``[tool.pyforge]``; pass mypy arguments with
``[tool.pyforge.options.mypy] args = ["--strict"]``. mypy runs once per analysis over all
files, with ``--follow-imports=silent`` so that only the analysed files are reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from pyforge.analysis.findings import Category, Severity
from pyforge.analysis.registry import Analyzer, ProjectHit, Span, ToolContext

ANALYZER = Analyzer(
    id="mypy",
    version="1",
    description="mypy type errors (optional; needs the 'mypy' extra).",
    default_enabled=False,
)
_TIMEOUT_S = 600


@ANALYZER.rule("TYP201", "type-error", Category.TYPES, Severity.MAJOR, on="tool")
def type_error(tool: ToolContext) -> Iterator[ProjectHit]:
    """mypy reports a type error.

    The message and mypy's error code (``[arg-type]``, ``[attr-defined]``, ...) are mypy's own;
    see https://mypy.readthedocs.io/en/stable/error_code_list.html for each code.

    How to fix: correct the call or the annotation mypy points at; silence a false positive
    with ``# type: ignore[code]``.
    """
    if not tool.files:
        return
    args = [str(a) for a in tool.options.get("args", [])]
    by_abs = {str(Path(a).resolve()): rel for a, rel in tool.files}
    argv = [sys.executable, "-m", "mypy", "--output", "json", "--no-error-summary",
            "--show-column-numbers", "--show-error-end", "--follow-imports=silent",
            "--no-incremental", "--ignore-missing-imports", *args, "--",
            *(a for a, _ in tool.files)]  # fmt: skip
    try:
        proc = subprocess.run(  # noqa: S603 - argv built from our settings
            argv, cwd=tool.root, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        tool.errors.append(f"mypy could not run: {exc}")
        return
    if proc.returncode not in (0, 1):
        tail = (proc.stderr or proc.stdout).strip().splitlines()
        tool.errors.append(f"mypy failed: {tail[-1] if tail else proc.returncode}")
        return
    for line in proc.stdout.splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if item.get("severity") != "error":
            continue
        rel = by_abs.get(str((tool.root / item.get("file", "")).resolve()))
        if rel is None:
            continue
        row = max(1, int(item.get("line") or 1))
        col = max(1, int(item.get("column") or 0) + 1)
        code = item.get("code") or "misc"
        yield ProjectHit(
            rel,
            Span(row, col, row, 0),
            f"{item.get('message', 'type error')} [{code}]",
            properties={"mypy_code": code},
        )
