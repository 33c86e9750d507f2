"""Style: ruff's lint rules (pycodestyle, pyflakes, ...) and ``ruff format --check``.

The default selection is ruff's own default (``E4``, ``E7``, ``E9``, ``F``) plus ``W``; set
``[tool.pyforge.options.style] select = [...]`` to choose others. Codes another PyForge
analyzer owns (``E711``/``E712``/``E722``/``F632``: bug-risk; ``F401``/``F811``/``F841``:
dead code) are left out so that one problem gives one finding. pyflakes errors that are bugs
rather than style (undefined names, syntax-level errors) are filed under bug-risk.
"""

from __future__ import annotations

from pyforge.analysis.findings import Category, Confidence, Severity
from pyforge.analysis.registry import Analyzer, Rule

_BUGS = ("F821", "F822", "F823", "F63", "F7", "E9", "F50", "F52", "F60", "F62")


def _classify(code: str) -> tuple[Category, Severity]:
    if code.startswith(_BUGS):
        return Category.BUG_RISK, Severity.MAJOR
    if code.startswith("W"):
        return Category.STYLE, Severity.INFO
    return Category.STYLE, Severity.MINOR


ANALYZER = Analyzer(
    id="style",
    version="1",
    description="ruff check (style and pyflakes rules) and ruff format --check.",
    ruff_select=("E4", "E7", "E9", "F", "W"),
    ruff_ignore=("E711", "E712", "E722", "F632", "F401", "F811", "F841"),
    ruff_classify=_classify,
    ruff_format=True,
)
ANALYZER.add_rule(
    Rule(
        id="STY-FORMAT",
        name="unformatted-file",
        category=Category.STYLE,
        severity=Severity.INFO,
        description="File is not formatted the way 'ruff format' would format it.",
        help="A consistent format keeps diffs about content, not layout. The finding points "
        "at the first place that differs.\n\nHow to fix: run 'ruff format' on the file.",
        confidence=Confidence.HIGH,
        analyzer="style",
    )
)
