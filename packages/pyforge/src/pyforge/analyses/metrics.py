"""Project metrics, A-E ratings and the quality gate of one analysis (pure functions).

Ratings follow SonarQube's definitions, computed over the *open* findings (accepted and false
positives excluded):

* **Reliability** (findings of category ``bug-risk``) and **security** (category
  ``security``): A = none (or only ``info``), B = at least one ``minor``, C = ``major``,
  D = ``critical``, E = ``blocker`` -- the worst finding decides.
* **Maintainability** from the technical-debt ratio: remediation cost of the open
  maintainability findings (every category but bug-risk and security) divided by the cost of
  writing the code, at :data:`MINUTES_PER_LINE` per source line. Remediation costs per
  severity are in :data:`REMEDIATION_MIN`. A <= 5 %, B <= 10 %, C <= 20 %, D <= 50 %, E above.

The quality gate uses the project's ``[gate]`` settings (the engine's :class:`GateConfig`):
``fail_on`` (no open finding of those severities; default critical and blocker),
``max_new_findings``, ``max_cyclomatic``, ``max_cognitive``, ``min_type_coverage`` and
``min_maintainability``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pyforge.analysis.config import GateConfig

SEVERITIES: Final = ("blocker", "critical", "major", "minor", "info")
SEVERITY_RANK: Final = {"info": 0, "minor": 1, "major": 2, "critical": 3, "blocker": 4}
RELIABILITY_CATEGORY: Final = "bug-risk"
SECURITY_CATEGORY: Final = "security"

#: Estimated minutes to fix one maintainability finding, by severity.
REMEDIATION_MIN: Final = {"info": 0, "minor": 5, "major": 10, "critical": 20, "blocker": 30}
#: SonarQube's default cost of writing one line of code (0.06 days of 8 hours).
MINUTES_PER_LINE: Final = 30
#: Upper bounds (inclusive, in percent) of the debt ratio for ratings A, B, C, D; above is E.
DEBT_RATIO_BOUNDS: Final = (5.0, 10.0, 20.0, 50.0)

#: Metrics that ``/metrics/history?metric=NAME`` accepts (numeric columns of project_metrics).
HISTORY_METRICS: Final = (
    "files", "functions", "classes", "loc", "sloc",
    "findings_total", "findings_blocker", "findings_critical", "findings_major",
    "findings_minor", "findings_info", "bugs", "vulnerabilities", "code_smells",
    "cyclomatic_avg", "cyclomatic_max", "cognitive_avg", "cognitive_max",
    "maintainability_index", "maintainability_index_min", "type_coverage",
    "technical_debt_min", "debt_ratio",
    "reliability_rating", "security_rating", "maintainability_rating",
)  # fmt: skip
#: Ratings are letters in the table; the history gives them as numbers A=1 ... E=5.
RATING_METRICS: Final = frozenset(
    {"reliability_rating", "security_rating", "maintainability_rating"}
)


@dataclass(frozen=True)
class Issue:
    """What ratings and the gate need of one open finding."""

    category: str
    severity: str
    new: bool = False


def worst_rating(issues: Iterable[Issue], category: str) -> str:
    """A-E by the worst open finding of ``category`` (info findings do not count)."""
    worst = max((SEVERITY_RANK[i.severity] for i in issues if i.category == category), default=0)
    return "ABCDE"[worst]


def debt_rating(ratio_percent: float) -> str:
    """A-E for a technical-debt ratio in percent (see :data:`DEBT_RATIO_BOUNDS`)."""
    for letter, bound in zip("ABCD", DEBT_RATIO_BOUNDS, strict=True):
        if ratio_percent <= bound:
            return letter
    return "E"


def rating_value(letter: str) -> int:
    """A=1 ... E=5, the numeric form used in time series."""
    return "ABCDE".index(letter) + 1


def project_metrics(summary: Mapping[str, Any], issues: list[Issue]) -> dict[str, Any]:
    """The flat ``project_metrics`` values from the engine's summary and the open findings."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for issue in issues:
        counts[issue.severity] += 1
    smells = [i for i in issues if i.category not in (RELIABILITY_CATEGORY, SECURITY_CATEGORY)]
    debt = sum(REMEDIATION_MIN[i.severity] for i in smells)
    sloc = int(summary.get("sloc", 0))
    ratio = round(100.0 * debt / (sloc * MINUTES_PER_LINE), 2) if sloc else 0.0
    return {
        "files": int(summary.get("files", 0)),
        "functions": int(summary.get("functions", 0)),
        "classes": int(summary.get("classes", 0)),
        "loc": int(summary.get("loc", 0)),
        "sloc": sloc,
        "findings_total": len(issues),
        **{f"findings_{s}": counts[s] for s in SEVERITIES},
        "bugs": sum(1 for i in issues if i.category == RELIABILITY_CATEGORY),
        "vulnerabilities": sum(1 for i in issues if i.category == SECURITY_CATEGORY),
        "code_smells": len(smells),
        "cyclomatic_avg": float(summary.get("cyclomatic", {}).get("average", 0.0)),
        "cyclomatic_max": int(summary.get("cyclomatic", {}).get("max", 0)),
        "cognitive_avg": float(summary.get("cognitive", {}).get("average", 0.0)),
        "cognitive_max": int(summary.get("cognitive", {}).get("max", 0)),
        "maintainability_index": float(
            summary.get("maintainability_index", {}).get("average", 100.0)
        ),
        "maintainability_index_min": float(
            summary.get("maintainability_index", {}).get("min", 100.0)
        ),
        "type_coverage": float(summary.get("type_coverage", 100.0)),
        "technical_debt_min": debt,
        "debt_ratio": ratio,
        "reliability_rating": worst_rating(issues, RELIABILITY_CATEGORY),
        "security_rating": worst_rating(issues, SECURITY_CATEGORY),
        "maintainability_rating": debt_rating(ratio),
    }


def _condition(name: str, passed: bool, actual: Any, threshold: Any) -> dict[str, Any]:
    return {
        "name": name,
        "status": "passed" if passed else "failed",
        "actual": actual,
        "threshold": threshold,
    }


def evaluate_gate(
    gate: GateConfig, metrics: Mapping[str, Any], issues: list[Issue]
) -> dict[str, Any]:
    """``{status, conditions: [{name, status, actual, threshold}]}`` for one analysis."""
    conditions: list[dict[str, Any]] = []
    if gate.fail_on:
        levels = {s.value for s in gate.fail_on}
        bad = sum(1 for i in issues if i.severity in levels)
        name = "no_" + "_".join(sorted(levels, key=SEVERITY_RANK.__getitem__)) + "_findings"
        conditions.append(_condition(name, bad == 0, bad, 0))
    if gate.max_new_findings is not None:
        new = sum(1 for i in issues if i.new)
        conditions.append(
            _condition("max_new_findings", new <= gate.max_new_findings, new,
                       gate.max_new_findings)
        )  # fmt: skip
    checks: list[tuple[str, str, Any, bool]] = []
    if gate.max_cyclomatic is not None:
        checks.append(("max_cyclomatic", "cyclomatic_max", gate.max_cyclomatic, True))
    if gate.max_cognitive is not None:
        checks.append(("max_cognitive", "cognitive_max", gate.max_cognitive, True))
    if gate.min_type_coverage is not None:
        checks.append(("min_type_coverage", "type_coverage", gate.min_type_coverage, False))
    if gate.min_maintainability is not None:
        checks.append(
            ("min_maintainability", "maintainability_index_min", gate.min_maintainability, False)
        )
    for name, metric, threshold, is_max in checks:
        actual = metrics[metric]
        passed = actual <= threshold if is_max else actual >= threshold
        conditions.append(_condition(name, passed, actual, threshold))
    status = "passed" if all(c["status"] == "passed" for c in conditions) else "failed"
    return {"status": status, "conditions": conditions}
