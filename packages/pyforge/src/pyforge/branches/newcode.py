"""New-code measures and the "Clean as You Code" gate (pure functions).

New code is what changed since the new-code baseline: for a branch or a pull request its
target branch's latest analysis, for the default branch the analysis the project's new-code
period names (see :mod:`pyforge.branches.service`). A finding is *new* when its fingerprint
is not in the baseline; new code's size is the source lines of the files whose content
differs from the baseline's tree.

Ratings on new code use the overall definitions (:mod:`pyforge.analyses.metrics`) over the new
open findings only; the maintainability rating's debt ratio divides their remediation cost by
the cost of writing the changed files.

The new-code gate ("Clean as You Code", SonarQube's default gate) fails when new code has:

* a finding of a ``fail_on`` severity of the project's ``[gate]`` (default critical, blocker);
* more new findings than ``max_new_findings`` (when set);
* a reliability, security or maintainability rating worse than A;
* a duplicated block (rule :data:`DUPLICATION_RULE`).

Old findings never fail it: a project with old criticals passes as long as it adds none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Final

from pyforge.analyses import metrics as m
from pyforge.analysis.config import GateConfig

#: The engine's duplicated-block rule: its new findings are "new duplication".
DUPLICATION_RULE: Final = "MNT201"
#: Worst rating new code may have and still pass.
MAX_NEW_RATING: Final = "A"


def changed_paths(manifest: Mapping[str, str], baseline: Mapping[str, str] | None) -> set[str]:
    """Paths whose content differs from the baseline's tree (every path without one)."""
    if baseline is None:
        return set(manifest)
    return {path for path, digest in manifest.items() if baseline.get(path) != digest}


def new_code_sloc(file_sloc: Mapping[str, int], changed: Iterable[str]) -> int:
    """Source lines of the changed files (files the engine did not measure count 0)."""
    return sum(file_sloc.get(path, 0) for path in changed)


def _smells(issues: list[m.Issue]) -> list[m.Issue]:
    return [i for i in issues if i.category not in (m.RELIABILITY_CATEGORY, m.SECURITY_CATEGORY)]


def _debt_ratio(debt: int, sloc: int) -> float:
    return round(100.0 * debt / (sloc * m.MINUTES_PER_LINE), 2) if sloc else 0.0


def _maintainability(debt: int, sloc: int) -> str:
    # Debt on no new lines (only deletions) cannot be rated by ratio: any debt is E.
    if not sloc:
        return "E" if debt else "A"
    return m.debt_rating(_debt_ratio(debt, sloc))


def measures(issues: list[m.Issue], sloc: int, duplications: int) -> dict[str, Any]:
    """Counts, debt and A-E ratings of the new open findings over ``sloc`` new lines."""
    smells = _smells(issues)
    debt = sum(m.REMEDIATION_MIN[i.severity] for i in smells)
    by_severity = Counter(i.severity for i in issues)
    by_category = Counter(i.category for i in issues)
    return {
        "sloc": sloc,
        "findings_total": len(issues),
        **{f"findings_{s}": by_severity[s] for s in m.SEVERITIES},
        "bugs": by_category[m.RELIABILITY_CATEGORY],
        "vulnerabilities": by_category[m.SECURITY_CATEGORY],
        "code_smells": len(smells),
        "duplications": duplications,
        "technical_debt_min": debt,
        "debt_ratio": _debt_ratio(debt, sloc),
        "reliability_rating": m.worst_rating(issues, m.RELIABILITY_CATEGORY),
        "security_rating": m.worst_rating(issues, m.SECURITY_CATEGORY),
        "maintainability_rating": _maintainability(debt, sloc),
    }


def _condition(name: str, passed: bool, actual: Any, threshold: Any) -> dict[str, Any]:
    status = "passed" if passed else "failed"
    return {"name": name, "status": status, "actual": actual, "threshold": threshold}


def _rating_conditions(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for kind in ("reliability", "security", "maintainability"):
        actual = values[f"{kind}_rating"]
        out.append(
            _condition(f"new_{kind}_rating", actual <= MAX_NEW_RATING, actual, MAX_NEW_RATING)
        )
    return out


def evaluate_gate(
    gate: GateConfig, values: Mapping[str, Any], issues: list[m.Issue]
) -> dict[str, Any]:
    """The new-code gate, ``{status, conditions: [{name, status, actual, threshold}]}``."""
    conditions: list[dict[str, Any]] = []
    if gate.fail_on:
        levels = {s.value for s in gate.fail_on}
        bad = sum(1 for i in issues if i.severity in levels)
        name = "new_" + "_".join(sorted(levels, key=m.SEVERITY_RANK.__getitem__)) + "_findings"
        conditions.append(_condition(name, bad == 0, bad, 0))
    if gate.max_new_findings is not None:
        conditions.append(
            _condition(
                "max_new_findings",
                len(issues) <= gate.max_new_findings,
                len(issues),
                gate.max_new_findings,
            )
        )
    conditions.extend(_rating_conditions(values))
    dup = int(values["duplications"])
    conditions.append(_condition("new_duplications", dup == 0, dup, 0))
    status = "passed" if all(c["status"] == "passed" for c in conditions) else "failed"
    return {"status": status, "conditions": conditions}
