"""Duplication: blocks of code repeated within or across files.

Each file is cut into logical lines (comments, docstrings, imports and decorators left out,
whitespace ignored) during the single tokenize pass. Windows of ``thresholds.duplicate_lines``
consecutive logical lines holding at least ``thresholds.duplicate_tokens`` tokens are hashed;
windows seen in more than one place are merged into maximal duplicated blocks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from pyforge.analysis.context import FileContext, ProjectContext
from pyforge.analysis.findings import Category, Severity
from pyforge.analysis.registry import Analyzer, ProjectHit, Span

ANALYZER = Analyzer(
    id="duplication",
    version="1",
    description="Duplicated blocks of code within and across files.",
)


@ANALYZER.collect
def _collect(ctx: FileContext) -> Any:
    if ctx.scan is None or len(ctx.scan.units) < ctx.thresholds.duplicate_lines:
        return None
    return [list(u) for u in ctx.scan.units]


@ANALYZER.rule("MNT201", "duplicated-block", Category.MAINTAINABILITY, Severity.MINOR,
               on="project")  # fmt: skip
def duplicated_block(project: ProjectContext) -> Iterator[ProjectHit]:
    """Block of code duplicated elsewhere.

    Copies drift apart: a bug fixed in one is left in the others. Only exact copies (modulo
    whitespace and comments) of at least ``thresholds.duplicate_lines`` logical lines and
    ``thresholds.duplicate_tokens`` tokens are reported, each copy with the place of another.

    How to fix: move the shared logic into one function (or a base class) and call it from
    each place.
    """
    width = project.settings.thresholds.duplicate_lines
    min_tokens = project.settings.thresholds.duplicate_tokens
    files = [(path, units) for path, units in project.facts_of(ANALYZER.id)]
    where: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for fi, (_path, units) in enumerate(files):
        # Running token totals and the units' hashes listed once: each window is then two
        # subtractions and one slice (this loop runs for every logical line of the project).
        tokens = list(accumulate((u[2] for u in units), initial=0))
        hashes = [u[3] for u in units]
        for i in range(len(units) - width + 1):
            if tokens[i + width] - tokens[i] >= min_tokens:
                where[hash(tuple(hashes[i : i + width]))].append((fi, i))
    covered: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    for places in where.values():
        if len(places) < 2:
            continue
        for a in places:
            other = next((b for b in places if b[0] != a[0] or abs(b[1] - a[1]) >= width), None)
            if other is not None:
                covered[a[0]].setdefault(a[1], other)
    for fi, starts in sorted(covered.items()):
        path, units = files[fi]
        runs: list[tuple[int, int]] = []  # maximal runs of consecutive duplicated windows
        for i in sorted(starts):
            if runs and i == runs[-1][1] + 1:
                runs[-1] = (runs[-1][0], i)
            else:
                runs.append((i, i))
        for run_start, prev in runs:
            other_fi, other_i = starts[run_start]
            first_line = units[run_start][0]
            last_line = units[prev + width - 1][1]
            other_path, other_units = files[other_fi]
            yield ProjectHit(
                path,
                Span(first_line, 1, last_line, 0),
                f"Lines {first_line}-{last_line} ({prev - run_start + width} logical lines) "
                f"duplicate {other_path}:{other_units[other_i][0]}.",
                properties={"other_path": other_path, "other_line": other_units[other_i][0]},
            )
