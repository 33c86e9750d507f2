"""The quality gate: configurable conditions over a report; exit code 1 when one fails."""

from __future__ import annotations

from pyforge.analysis.config import GateConfig
from pyforge.analysis.report import AnalysisReport, GateCondition, GateResult


def evaluate_gate(report: AnalysisReport, gate: GateConfig) -> GateResult:
    """Check every configured condition against the report (whose findings are the new ones).

    The default gate fails on any (new) critical or blocker finding.
    """
    conditions: list[GateCondition] = []
    if gate.fail_on:
        names = {s.value for s in gate.fail_on}
        bad = [f for f in report.findings if f.severity in gate.fail_on]
        conditions.append(
            GateCondition(
                f"no new {'/'.join(sorted(names))} findings",
                not bad,
                f"{len(bad)} found" if bad else "none",
            )
        )
    if gate.max_new_findings is not None:
        n = len(report.findings)
        conditions.append(
            GateCondition(
                f"at most {gate.max_new_findings} new findings",
                n <= gate.max_new_findings,
                f"{n} found",
            )
        )
    # Test code is held to its own standards: the complexity limits are production code's.
    fns = report.production_functions
    if gate.max_cyclomatic is not None:
        worst = max(fns, key=lambda f: f.cyclomatic, default=None)
        value = worst.cyclomatic if worst else 0
        conditions.append(
            GateCondition(
                f"cyclomatic complexity <= {gate.max_cyclomatic}",
                value <= gate.max_cyclomatic,
                f"max {value}" + (f" ({worst.qualname})" if worst else ""),
            )
        )
    if gate.max_cognitive is not None:
        worst = max(fns, key=lambda f: f.cognitive, default=None)
        value = worst.cognitive if worst else 0
        conditions.append(
            GateCondition(
                f"cognitive complexity <= {gate.max_cognitive}",
                value <= gate.max_cognitive,
                f"max {value}" + (f" ({worst.qualname})" if worst else ""),
            )
        )
    summary = report.summary() if (
        gate.min_type_coverage is not None or gate.min_maintainability is not None
    ) else {}  # fmt: skip
    if gate.min_type_coverage is not None:
        cov = float(summary["type_coverage"])
        conditions.append(
            GateCondition(
                f"type coverage >= {gate.min_type_coverage:g}%",
                cov >= gate.min_type_coverage,
                f"{cov:.1f}%",
            )
        )
    if gate.min_maintainability is not None:
        mi = float(summary["maintainability_index"]["min"])
        conditions.append(
            GateCondition(
                f"maintainability index >= {gate.min_maintainability:g} in every file",
                mi >= gate.min_maintainability,
                f"min {mi:.1f}",
            )
        )
    return GateResult(conditions)
