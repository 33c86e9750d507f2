"""Dead code: unused imports and variables (ruff's pyflakes rules) and unused private functions.

Unreachable statements are reported by the bug-risk analyzer (``BUG107``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from pyforge.analysis.context import FileContext, ProjectContext
from pyforge.analysis.findings import Category, Confidence, Severity
from pyforge.analysis.registry import Analyzer, ProjectHit, Span


def _classify(code: str) -> tuple[Category, Severity]:
    return Category.MAINTAINABILITY, Severity.MINOR


ANALYZER = Analyzer(
    id="deadcode",
    version="2",
    description="Unused imports, variables and private functions.",
    ruff_select=("F401", "F811", "F841"),
    ruff_classify=_classify,
)


@ANALYZER.collect
def _collect(ctx: FileContext) -> Any:
    defs = [
        [fm.name, fm.line, fm.column, fm.end_line]
        for fm in ctx.functions
        if fm.qualname == fm.name
        and fm.name.startswith("_")
        and not fm.name.startswith("__")
        and not fm.decorated
    ]
    names = ctx.scan.private_names if ctx.scan is not None else {}
    if not defs and not names:
        return None
    return {"defs": defs, "names": names}


@ANALYZER.rule("MNT301", "unused-private-function", Category.MAINTAINABILITY, Severity.MINOR,
               on="project", confidence=Confidence.MEDIUM, enabled=False)  # fmt: skip
def unused_private_function(project: ProjectContext) -> Iterator[ProjectHit]:
    """Module-level private function that nothing in the project refers to.

    A function named ``_name`` is private to its module by convention. When its name appears
    nowhere in the analysed files except in its own ``def`` (not in a call, a reference, an
    import or a string such as a ``getattr`` name), it is dead code. Decorated functions are
    not reported (a decorator may register them).

    Off by default (select ``MNT301`` to run it): the analysed files are rarely all the code
    that uses a module's private helpers. A package's test suite imports them from outside the
    package (``pkg.testing`` helpers), and code generators call them by name, so in the sample
    3 of 8 findings were dead code (see ``docs/rules-precision.md``).

    How to fix: delete it, or drop the underscore if it is meant to be used from outside.
    """
    totals: dict[str, int] = defaultdict(int)
    defined: dict[str, int] = defaultdict(int)
    files = list(project.facts_of(ANALYZER.id))
    for _path, facts in files:
        for name, count in facts["names"].items():
            totals[name] += count
        for d in facts["defs"]:
            defined[d[0]] += 1
    for path, facts in files:
        for name, line, column, end_line in facts["defs"]:
            if totals[name] <= defined[name]:
                yield ProjectHit(
                    path,
                    Span(line, column, end_line, 0),
                    f"Private function '{name}' is never used in the project.",
                )
