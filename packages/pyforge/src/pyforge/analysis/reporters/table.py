"""Terminal output: a rich summary with ratings, top findings and the worst functions."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pyforge.analysis.findings import Severity
from pyforge.analysis.report import AnalysisReport

_STYLE = {
    Severity.BLOCKER: "bold white on red",
    Severity.CRITICAL: "bold red",
    Severity.MAJOR: "yellow",
    Severity.MINOR: "cyan",
    Severity.INFO: "dim",
}
_RATING_STYLE = {"A": "green", "B": "green", "C": "yellow", "D": "red", "E": "bold red",
                 "F": "bold red"}  # fmt: skip
TOP_FINDINGS = 20


def render_table(report: AnalysisReport, out: TextIO, *, color: bool = False) -> None:
    """Write a human-readable summary."""
    console = Console(file=out, force_terminal=color, no_color=not color, width=120,
                      highlight=False)  # fmt: skip
    s = report.summary()
    sev = s["findings_by_severity"]
    console.print(
        f"[bold]PyForge[/bold] analysed {s['files_analyzed']} of {s['files']} files "
        f"({s['functions']} functions, {s['sloc']} SLOC) in {s['duration_s']:.2f}s"
        + (f", {s['cache_hits']} from cache" if s["cache_hits"] else "")
    )
    ratings = " ".join(
        f"{name} [{_RATING_STYLE.get(v, '')}]{v}[/]" for name, v in s["ratings"].items()
    )
    console.print(f"Ratings: {ratings}   type coverage {s['type_coverage']:.1f}%   "
                  f"avg MI {s['maintainability_index']['average']:.1f}")  # fmt: skip
    console.print(
        "Findings: "
        + ", ".join(f"[{_STYLE[x]}]{sev[x.value]} {x.value}[/]" for x in reversed(Severity))
        + (f"   ({s['baseline']['known']} known, in the baseline)" if "baseline" in s else "")
    )
    if report.findings:
        table = Table(title=f"Top findings ({min(TOP_FINDINGS, len(report.findings))} of "
                      f"{len(report.findings)})", title_justify="left", expand=False)  # fmt: skip
        table.add_column("Severity")
        table.add_column("Rule")
        table.add_column("Location", overflow="fold")
        table.add_column("Message", overflow="fold")
        ordered = sorted(report.findings, key=lambda f: (-f.severity.rank, f.sort_key()))
        for f in ordered[:TOP_FINDINGS]:
            table.add_row(f"[{_STYLE[f.severity]}]{f.severity.value}[/]", f.rule,
                          escape(f"{f.path}:{f.line}"), escape(f.message))  # fmt: skip
        console.print(table)
    worst = report.worst_functions(10)
    if worst:
        table = Table(title="Most complex functions", title_justify="left")
        table.add_column("Function", overflow="fold")
        table.add_column("Location", overflow="fold")
        table.add_column("Cyclomatic", justify="right")
        table.add_column("Cognitive", justify="right")
        table.add_column("Lines", justify="right")
        for path, fn in worst:
            table.add_row(escape(fn.qualname), escape(f"{path}:{fn.line}"), str(fn.cyclomatic),
                          str(fn.cognitive), str(fn.length))  # fmt: skip
        console.print(table)
    for n in report.notes[:20]:
        console.print(f"[dim]note:[/] {escape(n.path + ': ' if n.path else '')}{escape(n.message)}",
                      markup=True)  # fmt: skip
    if len(report.notes) > 20:
        console.print(f"[dim]... and {len(report.notes) - 20} more notes[/]")
    if report.gate is not None:
        for c in report.gate.conditions:
            mark = "[green]pass[/]" if c.passed else "[red]FAIL[/]"
            console.print(f"Gate {mark}: {escape(c.name)} ({escape(c.detail)})")
        verdict = "[green]passed[/]" if report.gate.passed else "[bold red]failed[/]"
        console.print(f"Quality gate {verdict}")
