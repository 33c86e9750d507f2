"""Types: annotation coverage of parameters and return values."""

from __future__ import annotations

from collections.abc import Iterator

from pyforge.analysis.context import FileContext
from pyforge.analysis.findings import Category, Severity
from pyforge.analysis.metrics.model import FunctionMetrics
from pyforge.analysis.registry import Analyzer, Hit, Span

ANALYZER = Analyzer(
    id="types",
    version="1",
    description="Type-annotation coverage of parameters and returns.",
)


@ANALYZER.rule("TYP101", "missing-annotations", Category.TYPES, Severity.INFO, on="function",
               aliases=("ANN001", "ANN201", "ANN202"))  # fmt: skip
def missing_annotations(ctx: FileContext, fm: FunctionMetrics) -> Iterator[Hit]:
    """Public function lacks type annotations on some parameters or its return.

    Unannotated functions are invisible to type checkers: calls to them are not checked and
    their bodies are skipped by mypy's default mode. Private functions (``_name``) and nested
    functions are not reported; they still count in the coverage figures.

    How to fix: annotate every parameter (``self``/``cls`` excepted) and the return type,
    ``-> None`` included.
    """
    if fm.name.startswith("_") and not (fm.name.startswith("__") and fm.name.endswith("__")):
        return
    if "." in fm.qualname and not fm.is_method:
        return
    missing = fm.parameters - fm.annotated_parameters
    if missing == 0 and fm.has_return_annotation:
        return
    parts = []
    if missing:
        parts.append(f"{missing} of {fm.parameters} parameter(s)")
    if not fm.has_return_annotation:
        parts.append("the return type")
    yield Hit(
        Span(fm.line, fm.column, fm.line, 0),
        f"'{fm.qualname}' has no annotation for {' and '.join(parts)}.",
    )
