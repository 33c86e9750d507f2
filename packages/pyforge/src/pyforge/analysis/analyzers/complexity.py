"""Complexity: cyclomatic and cognitive complexity, nesting, parameters and length per function.

The figures come from the single pass (``walker.py``); these rules only compare them with the
configured thresholds and say how to bring them down.
"""

from __future__ import annotations

from collections.abc import Iterator

from pyforge.analysis.context import FileContext
from pyforge.analysis.findings import Category, Severity
from pyforge.analysis.metrics.model import FunctionMetrics
from pyforge.analysis.registry import Analyzer, Hit, Span

ANALYZER = Analyzer(
    id="complexity",
    version="1",
    description="Cyclomatic and cognitive complexity, nesting depth, parameters, length.",
)


def _where(fm: FunctionMetrics) -> Span:
    return Span(fm.line, fm.column, fm.end_line, 0)


def _scaled(value: float, limit: float) -> Severity:
    # Twice over the limit is no longer a smell but a risk.
    return Severity.CRITICAL if value >= 2 * limit else Severity.MAJOR


def _kind(fm: FunctionMetrics) -> str:
    return "method" if fm.is_method else "function"


@ANALYZER.rule(
    "CPX101", "high-cyclomatic-complexity", Category.COMPLEXITY, Severity.MAJOR, on="function"
)
def high_cyclomatic(ctx: FileContext, fm: FunctionMetrics) -> Iterator[Hit]:
    """Function has too many independent paths (cyclomatic complexity above the threshold).

    Cyclomatic complexity counts the decision points of a function (``if``/``elif``, loops,
    ``except`` handlers, boolean operators, comprehension clauses, ``match`` cases) plus one,
    exactly as radon does. Above ``thresholds.cyclomatic`` (default 10) a function needs more
    test cases than anyone writes and is hard to change safely.

    How to fix: extract each independent branch into a well-named helper, replace
    ``if``/``elif`` chains that map values with a dictionary, and return early on guard
    conditions instead of nesting the main path.
    """
    limit = ctx.thresholds.cyclomatic
    if fm.cyclomatic > limit:
        yield Hit(
            _where(fm),
            f"{_kind(fm).capitalize()} '{fm.qualname}' (lines {fm.line}-{fm.end_line}) has "
            f"cyclomatic complexity {fm.cyclomatic} (limit {limit}); split its independent "
            "branches into helper functions.",
            severity=_scaled(fm.cyclomatic, limit),
            properties={"value": fm.cyclomatic, "limit": limit},
        )


@ANALYZER.rule(
    "CPX102", "high-cognitive-complexity", Category.COMPLEXITY, Severity.MAJOR, on="function"
)
def high_cognitive(ctx: FileContext, fm: FunctionMetrics) -> Iterator[Hit]:
    """Function is hard to understand (cognitive complexity above the threshold).

    Cognitive complexity (SonarSource) charges every break in the linear flow (``if``, loops,
    ``except``, conditional expressions, boolean operator sequences, recursion) and charges more
    the deeper it is nested. Above ``thresholds.cognitive`` (default 15) readers lose track.

    How to fix: flatten nesting with guard clauses (``if not ok: return``), move loop bodies
    into functions, and name complex conditions with a well-named variable or function.
    """
    limit = ctx.thresholds.cognitive
    if fm.cognitive > limit:
        yield Hit(
            _where(fm),
            f"{_kind(fm).capitalize()} '{fm.qualname}' (lines {fm.line}-{fm.end_line}) has "
            f"cognitive complexity {fm.cognitive} (limit {limit}); flatten it with guard "
            "clauses and extract nested blocks.",
            severity=_scaled(fm.cognitive, limit),
            properties={"value": fm.cognitive, "limit": limit},
        )


@ANALYZER.rule("CPX103", "deep-nesting", Category.COMPLEXITY, Severity.MINOR, on="function")
def deep_nesting(ctx: FileContext, fm: FunctionMetrics) -> Iterator[Hit]:
    """Blocks are nested too deeply (``if``/loops/``with``/``try`` inside each other).

    Each level of nesting is context a reader must keep in mind. Above ``thresholds.nesting``
    (default 4) levels the function is hard to follow.

    How to fix: invert conditions and return or ``continue`` early, and extract the innermost
    blocks into functions.
    """
    limit = ctx.thresholds.nesting
    if fm.max_nesting > limit:
        yield Hit(
            _where(fm),
            f"{_kind(fm).capitalize()} '{fm.qualname}' nests blocks {fm.max_nesting} deep "
            f"(limit {limit}); use early returns or extract the inner blocks.",
            properties={"value": fm.max_nesting, "limit": limit},
        )


@ANALYZER.rule("CPX104", "too-many-parameters", Category.COMPLEXITY, Severity.MINOR, on="function")
def too_many_parameters(ctx: FileContext, fm: FunctionMetrics) -> Iterator[Hit]:
    """Function takes too many parameters.

    ``self``/``cls`` are not counted. Above ``thresholds.parameters`` (default 6) calls become
    error-prone and the function probably does several things.

    How to fix: group parameters that travel together into a dataclass, or split the function.
    """
    limit = ctx.thresholds.parameters
    if fm.parameters > limit:
        yield Hit(
            _where(fm),
            f"{_kind(fm).capitalize()} '{fm.qualname}' takes {fm.parameters} parameters "
            f"(limit {limit}); group related ones into an object.",
            properties={"value": fm.parameters, "limit": limit},
        )


@ANALYZER.rule("CPX105", "long-function", Category.COMPLEXITY, Severity.MINOR, on="function")
def long_function(ctx: FileContext, fm: FunctionMetrics) -> Iterator[Hit]:
    """Function is too long.

    Counted in physical lines from ``def`` to the end of the body. Above
    ``thresholds.function_length`` (default 80) it rarely does one thing.

    How to fix: extract coherent steps into functions named after what they do.
    """
    limit = ctx.thresholds.function_length
    if fm.length > limit:
        yield Hit(
            _where(fm),
            f"{_kind(fm).capitalize()} '{fm.qualname}' is {fm.length} lines long "
            f"(lines {fm.line}-{fm.end_line}, limit {limit}); extract its steps.",
            properties={"value": fm.length, "limit": limit},
        )
