"""JSON output: the documented schema of :mod:`pyforge.analysis.report`."""

from __future__ import annotations

import json
from typing import TextIO

from pyforge.analysis.report import AnalysisReport


def render_json(report: AnalysisReport, out: TextIO) -> None:
    """Write the report as JSON (schema ``schema_version`` 1.0)."""
    # Compact on purpose: only the one-line form uses the C encoder (``indent`` makes a large
    # report several times slower to write); pipe through ``python -m json.tool`` to read it.
    # The report is a tree of fresh dicts and lists: no cycle to look for (a quarter faster).
    out.write(json.dumps(report.to_dict(), ensure_ascii=False, check_circular=False))
    out.write("\n")
