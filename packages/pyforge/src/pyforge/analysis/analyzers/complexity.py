"""Complexity: cyclomatic and cognitive complexity, nesting, parameters and length per function.

The figures come from the single pass (``walker.py``); these rules only compare them with the
configured thresholds and say how to bring them down.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from pyforge.analysis.context import FileContext
from pyforge.analysis.findings import Category, Severity
from pyforge.analysis.metrics.model import FunctionMetrics
from pyforge.analysis.registry import Analyzer, Hit, Span

ANALYZER = Analyzer(
    id="complexity",
    version="2",
    description="Cyclomatic and cognitive complexity, nesting depth, parameters, length.",
)


def _where(fm: FunctionMetrics) -> Span:
    return Span(fm.line, fm.column, fm.end_line, 0)


def _scaled(value: float, limit: float) -> Severity:
    # Twice over the limit is no longer a smell but a risk.
    return Severity.CRITICAL if value >= 2 * limit else Severity.MAJOR


def _kind(fm: FunctionMetrics) -> str:
    return "method" if fm.is_method else "function"


def _over_limit(
    fm: FunctionMetrics,
    value: int,
    limit: int,
    detail: str,
    *,
    scaled: bool = False,
    ctx: FileContext | None = None,
) -> Iterator[Hit]:
    """The one hit of a threshold rule, when ``value`` exceeds ``limit``.

    ``detail`` is a template (``{value}``, ``{limit}``, ``{line}``, ``{end_line}``) that follows
    "<Kind> '<qualname>' "; it is formatted only when the rule fires, since these checks run on
    every function of every file. Stub files (``.pyi``) mirror an API and hold no logic: nothing
    is reported there.
    """
    if value > limit and not (ctx is not None and ctx.path.endswith(".pyi")):
        yield Hit(
            _where(fm),
            f"{_kind(fm).capitalize()} '{fm.qualname}' "
            + detail.format(value=value, limit=limit, line=fm.line, end_line=fm.end_line),
            severity=_scaled(value, limit) if scaled else None,
            properties={"value": value, "limit": limit},
        )


@ANALYZER.rule(
    "CPX101",
    "high-cyclomatic-complexity",
    Category.COMPLEXITY,
    Severity.MAJOR,
    on="function",
    aliases=("C901",),
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
    yield from _over_limit(
        fm, fm.cyclomatic, ctx.thresholds.cyclomatic,
        "(lines {line}-{end_line}) has cyclomatic complexity {value} (limit {limit}); split its "
        "independent branches into helper functions.",
        scaled=True, ctx=ctx,
    )  # fmt: skip


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
    yield from _over_limit(
        fm, fm.cognitive, ctx.thresholds.cognitive,
        "(lines {line}-{end_line}) has cognitive complexity {value} (limit {limit}); flatten it "
        "with guard clauses and extract nested blocks.",
        scaled=True, ctx=ctx,
    )  # fmt: skip


@ANALYZER.rule("CPX103", "deep-nesting", Category.COMPLEXITY, Severity.MINOR, on="function")
def deep_nesting(ctx: FileContext, fm: FunctionMetrics) -> Iterator[Hit]:
    """Blocks are nested too deeply (``if``/loops/``with``/``try`` inside each other).

    Each level of nesting is context a reader must keep in mind. Above ``thresholds.nesting``
    (default 4) levels the function is hard to follow.

    How to fix: invert conditions and return or ``continue`` early, and extract the innermost
    blocks into functions.
    """
    yield from _over_limit(
        fm, fm.max_nesting, ctx.thresholds.nesting,
        "nests blocks {value} deep (limit {limit}); use early returns or extract the inner "
        "blocks.", ctx=ctx,
    )  # fmt: skip


@ANALYZER.rule("CPX104", "too-many-parameters", Category.COMPLEXITY, Severity.MINOR, on="function",
               aliases=("PLR0913",))  # fmt: skip
def too_many_parameters(ctx: FileContext, fm: FunctionMetrics) -> Iterator[Hit]:
    """Function takes too many parameters.

    ``self``/``cls`` are not counted. Above ``thresholds.parameters`` (default 6) calls become
    error-prone and the function probably does several things.

    How to fix: group parameters that travel together into a dataclass, or split the function.
    """
    yield from _over_limit(
        fm, fm.parameters, ctx.thresholds.parameters,
        "takes {value} parameters (limit {limit}); group related ones into an object.", ctx=ctx,
    )  # fmt: skip


@ANALYZER.rule("CPX105", "long-function", Category.COMPLEXITY, Severity.MINOR, on="function")
def long_function(ctx: FileContext, fm: FunctionMetrics) -> Iterator[Hit]:
    """Function is too long.

    Counted in physical lines from ``def`` to the end of the body, less the docstring (a long
    explanation is no long function). Above ``thresholds.function_length`` (default 80) it
    rarely does one thing.

    How to fix: extract coherent steps into functions named after what they do.
    """
    limit = ctx.thresholds.function_length
    if fm.length <= limit:
        return  # the usual case: no need to look for a docstring
    yield from _over_limit(
        fm, fm.length - _docstring_lines(ctx), limit,
        "is {value} lines long (lines {line}-{end_line}, limit {limit}); extract its steps.",
        ctx=ctx,
    )  # fmt: skip


def _docstring_lines(ctx: FileContext) -> int:
    """Lines of the docstring of the function being left (function checks run inside it)."""
    node = ctx.parents[-1] if ctx.parents else None
    body = getattr(node, "body", None)
    if not body or not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return 0
    first = body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return (first.end_lineno or first.lineno) - first.lineno + 1
    return 0
