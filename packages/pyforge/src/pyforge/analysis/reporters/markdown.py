"""Markdown output, sized for a pull-request comment."""

from __future__ import annotations

from typing import TextIO

from pyforge.analysis.findings import Severity
from pyforge.analysis.report import AnalysisReport

_ICON = {
    Severity.BLOCKER: "🛑",
    Severity.CRITICAL: "🔴",
    Severity.MAJOR: "🟠",
    Severity.MINOR: "🟡",
    Severity.INFO: "🔵",
}
MAX_FINDINGS = 50


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: AnalysisReport, out: TextIO) -> None:
    """Write the report as GitHub-flavoured Markdown."""
    s = report.summary()
    gate = report.gate
    verdict = "✅ passed" if gate is None or gate.passed else "❌ failed"
    w = out.write
    w(f"## PyForge analysis: quality gate {verdict}\n\n")
    sev = s["findings_by_severity"]
    w("| Files | Functions | Findings | Blocker | Critical | Major | Minor | Info |\n")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    w(f"| {s['files']} | {s['functions']} | {s['findings']} | {sev['blocker']} | "
      f"{sev['critical']} | {sev['major']} | {sev['minor']} | {sev['info']} |\n\n")  # fmt: skip
    r = s["ratings"]
    w(f"**Ratings**: reliability {r['reliability']}, security {r['security']}, "
      f"maintainability {r['maintainability']}, complexity {r['complexity']} · "
      f"type coverage {s['type_coverage']:.1f}% · "
      f"average cyclomatic complexity {s['cyclomatic']['average']:.2f}\n\n")  # fmt: skip
    if "baseline" in s:
        w(f"Only findings new since the baseline are listed "
          f"({s['baseline']['known']} known findings hidden).\n\n")  # fmt: skip
    if gate is not None:
        w("<details><summary>Quality gate</summary>\n\n")
        for c in gate.conditions:
            w(f"- {'✅' if c.passed else '❌'} {c.name}: {c.detail}\n")
        w("\n</details>\n\n")
    if report.findings:
        ordered = sorted(report.findings, key=lambda f: (-f.severity.rank, f.sort_key()))
        shown = ordered[:MAX_FINDINGS]
        w(f"### Findings ({len(shown)} of {len(ordered)}, most severe first)\n\n")
        w("| | Rule | Location | Message |\n|---|---|---|---|\n")
        for f in shown:
            w(f"| {_ICON[f.severity]} {f.severity.value} | `{f.rule}` | "
              f"`{_cell(f.path)}:{f.line}` | {_cell(f.message)} |\n")  # fmt: skip
        w("\n")
    worst = report.worst_functions(10)
    if worst:
        w("<details><summary>Most complex functions</summary>\n\n")
        w("| Function | Location | Cyclomatic | Cognitive |\n|---|---|---:|---:|\n")
        for path, fn in worst:
            w(f"| `{_cell(fn.qualname)}` | `{_cell(path)}:{fn.line}` | {fn.cyclomatic} | "
              f"{fn.cognitive} |\n")  # fmt: skip
        w("\n</details>\n")
    if report.notes:
        w("\n<details><summary>Notes</summary>\n\n")
        for n in report.notes:
            w(f"- {_cell(n.path + ': ' if n.path else '')}{_cell(n.message)}\n")
        w("\n</details>\n")
