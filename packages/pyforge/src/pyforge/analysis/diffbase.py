"""``pyforge analyze --diff-base REF``: report only findings on lines changed since ``REF``.

Pull-request decoration without a PyForge server: in a git checkout, the lines a change
touches are what ``git diff --unified=0`` against the merge base of ``REF`` and ``HEAD``
lists (committed, staged and unstaged changes alike), plus every line of an untracked file.
A finding is kept when any line of its range is such a line; the quality gate is evaluated
again over the kept findings, so the exit code follows the change, not the old code around
it. Deleted lines cannot carry findings and are ignored.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Final

from pyforge.analysis.config import Config
from pyforge.analysis.discovery import InputError
from pyforge.analysis.findings import Finding
from pyforge.analysis.gate import evaluate_gate
from pyforge.analysis.report import AnalysisReport

#: ``@@ -a,b +c,d @@``: the new side's first line ``c`` and count ``d`` (1 when omitted).
_HUNK: Final = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_GIT_TIMEOUT_S: Final = 60

#: Changed lines per root-relative path; None means every line (an untracked file).
ChangedLines = dict[str, frozenset[int] | None]


def _git(root: Path, *args: str) -> str:
    # git from PATH, as a developer's shell and CI runners find it; the ref is one argument.
    argv = ["git", *args]
    try:
        proc = subprocess.run(  # noqa: S603 - fixed program, no shell
            argv, cwd=root, capture_output=True, text=True, timeout=_GIT_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise InputError(f"--diff-base needs git: {exc}") from None
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()
        raise InputError(f"--diff-base: git {args[0]}: {detail[0] if detail else 'failed'}")
    return proc.stdout


def parse_diff(text: str) -> dict[str, frozenset[int]]:
    """Changed line numbers (new side) per file of a ``git diff --unified=0`` output."""
    out: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            # "/dev/null": the file was deleted, nothing of it is left to report on.
            current = None if name == "/dev/null" else out.setdefault(_strip_prefix(name), set())
            continue
        match = _HUNK.match(line)
        if match is None or current is None:
            continue
        start, count = int(match.group(1)), int(match.group(2) or "1")
        current.update(range(start, start + count))
    return {path: frozenset(lines) for path, lines in out.items()}


def _strip_prefix(name: str) -> str:
    # git quotes names with unusual characters; the usual "b/" prefix is dropped.
    name = name.strip('"')
    return name[2:] if name.startswith("b/") else name


def merge_base(root: Path, ref: str) -> str:
    """The merge base of ``ref`` and ``HEAD`` (``ref`` itself when they share no history)."""
    _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    try:
        return _git(root, "merge-base", ref, "HEAD").strip() or ref
    except InputError:
        return ref


def changed_lines(root: Path, base: str) -> ChangedLines:
    """Lines changed in the working tree at ``root`` since commit ``base`` (a merge base)."""
    diff = _git(root, "diff", "--unified=0", "--no-color", "--no-ext-diff", "--relative",
                "--no-renames", base, "--")  # fmt: skip
    changed: ChangedLines = dict(parse_diff(diff))
    for name in _git(root, "ls-files", "--others", "--exclude-standard").splitlines():
        if name.strip():
            changed[name.strip()] = None
    return changed


def on_changed_lines(finding: Finding, changed: Mapping[str, frozenset[int] | None]) -> bool:
    """Whether any line of the finding's range changed."""
    if finding.path not in changed:
        return False
    lines = changed[finding.path]
    if lines is None:
        return True
    last = max(finding.line, finding.end_line or finding.line)
    return any(n in lines for n in range(finding.line, last + 1))


def restrict(report: AnalysisReport, changed: ChangedLines, config: Config) -> AnalysisReport:
    """The report with only the findings on changed lines, and its gate evaluated again."""
    kept = [f for f in report.findings if on_changed_lines(f, changed)]
    restricted = replace(report, findings=kept)
    restricted.gate = evaluate_gate(restricted, config.gate)
    return restricted


def markdown_preamble(ref: str, kept: int, total: int) -> str:
    """The line a PR comment starts with, saying what the summary below covers."""
    return (f"> PyForge: only findings on lines changed since `{ref}` "
            f"({kept} of {total} in the changed files).\n\n")  # fmt: skip


def _config_for(paths: list[str], config_file: Path | None) -> tuple[Path, Config]:
    """The analysis root and configuration, resolved as ``pyforge analyze`` resolves them."""
    from pyforge.analysis.config import find_config, load_config
    from pyforge.analysis.discovery import resolve_root

    targets = [Path(p) for p in paths] or [Path()]
    source = config_file or find_config(targets[0].resolve())
    root = resolve_root(targets, source)
    return root, load_config(root, source, discover=False)


def analyze_diff_base(
    paths: list[str],
    ref: str,
    *,
    fmt: str,
    output: Path | None,
    jobs: int | None,
    no_cache: bool,
    cache_dir: Path | None,
    baseline: Path | None,
    config: Path | None,
) -> int:
    """Run ``pyforge analyze --diff-base REF``; returns the exit code (gate on the change)."""
    import sys

    from pyforge.analysis import ConfigError
    from pyforge.analysis.command import (
        EXIT_GATE_FAILED,
        EXIT_OK,
        UsageError,
        _output,
        run_analysis,
    )
    from pyforge.analysis.reporters import FORMATS, render

    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    try:
        root, cfg = _config_for(paths, config)
        base = merge_base(root, ref)
        changed = changed_lines(root, base)
    except (InputError, ConfigError) as exc:
        raise UsageError(str(exc)) from None
    # Only the files changed since the merge base are analysed: the others cannot have a
    # finding on a changed line.
    report = run_analysis(
        paths, config_file=config, jobs=jobs, no_cache=no_cache, cache_dir=cache_dir,
        changed_since=base, baseline=baseline, show_progress=fmt == "table" or output is not None,
    )  # fmt: skip
    restricted = restrict(report, changed, cfg)
    with _output(output) as out:
        if fmt == "markdown":
            out.write(markdown_preamble(ref, len(restricted.findings), len(report.findings)))
        render(restricted, fmt, out, color=out is sys.stdout and sys.stdout.isatty())
    gate = restricted.gate
    return EXIT_OK if gate is None or gate.passed else EXIT_GATE_FAILED
