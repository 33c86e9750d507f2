"""Report renderers: ``table`` (rich, for terminals), ``json``, ``sarif`` and ``markdown``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from pyforge.analysis.report import AnalysisReport

FORMATS = ("table", "json", "sarif", "markdown")


def render(report: AnalysisReport, fmt: str, out: TextIO, *, color: bool = False) -> None:
    """Write ``report`` to ``out`` in format ``fmt`` (one of :data:`FORMATS`)."""
    renderer: Callable[..., None]
    if fmt == "json":
        from pyforge.analysis.reporters.json import render_json as renderer
    elif fmt == "sarif":
        from pyforge.analysis.reporters.sarif import render_sarif as renderer
    elif fmt == "markdown":
        from pyforge.analysis.reporters.markdown import render_markdown as renderer
    elif fmt == "table":
        from pyforge.analysis.reporters.table import render_table

        render_table(report, out, color=color)
        return
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    renderer(report, out)
