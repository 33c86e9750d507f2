"""Maintainability: the maintainability index of each file (radon's variant)."""

from __future__ import annotations

from collections.abc import Iterator

from pyforge.analysis.context import FileContext
from pyforge.analysis.findings import Category, Severity
from pyforge.analysis.registry import Analyzer, Hit, Span

ANALYZER = Analyzer(
    id="maintainability",
    version="1",
    description="Maintainability index per file (Halstead volume, complexity, size, comments).",
)


@ANALYZER.rule("MNT101", "low-maintainability-index", Category.MAINTAINABILITY, Severity.MAJOR,
               on="file")  # fmt: skip
def low_maintainability(ctx: FileContext) -> Iterator[Hit]:
    """File has a low maintainability index.

    The maintainability index (0-100, radon's variant with comments and docstrings counted)
    combines Halstead volume, cyclomatic complexity, logical lines and the share of comments.
    radon ranks above 19 as A, 10-19 as B and 9 or below as C; files below
    ``thresholds.maintainability`` (default 10) are reported.

    How to fix: split the module by responsibility, simplify its most complex functions
    (see the CPX findings) and document what is not obvious.
    """
    mi = ctx.metrics.maintainability_index
    limit = ctx.thresholds.maintainability
    if mi < limit:
        worst = sorted(ctx.functions, key=lambda f: -f.cyclomatic)[:3]
        names = ", ".join(f"{f.qualname} (cc {f.cyclomatic})" for f in worst)
        hint = f"; start with {names}" if names else ""
        yield Hit(
            Span(1),
            f"Maintainability index {mi:.1f} is below {limit:g} "
            f"({ctx.metrics.raw.lloc} logical lines, total complexity {ctx.metrics.cyclomatic})"
            f"{hint}.",
            properties={"value": round(mi, 2), "limit": limit},
        )
