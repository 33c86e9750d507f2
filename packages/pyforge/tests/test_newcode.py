"""New-code measures and the "Clean as You Code" gate (pure functions)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pyforge.analyses.metrics import Issue
from pyforge.analysis.config import GateConfig
from pyforge.branches.newcode import changed_paths, evaluate_gate, measures, new_code_sloc

SEVERITIES = ("blocker", "critical", "major", "minor", "info")
CATEGORIES = ("bug-risk", "security", "style", "complexity")


def test_changed_paths_and_sloc() -> None:
    now = {"a.py": "1", "b.py": "2", "c.py": "3"}
    assert changed_paths(now, {"a.py": "1", "b.py": "x"}) == {"b.py", "c.py"}
    assert changed_paths(now, None) == set(now)
    assert new_code_sloc({"b.py": 10, "c.py": 5, "a.py": 100}, {"b.py", "c.py", "gone.py"}) == 15


def test_clean_new_code_passes_whatever_the_old_code_has() -> None:
    values = measures([], sloc=20, duplications=0)
    gate = evaluate_gate(GateConfig(), values, [])
    assert gate["status"] == "passed"
    assert {c["name"] for c in gate["conditions"]} == {
        "new_critical_blocker_findings", "new_reliability_rating", "new_security_rating",
        "new_maintainability_rating", "new_duplications"}  # fmt: skip


def test_each_condition_fails_on_its_own() -> None:
    cases = {
        "new_security_rating": [Issue("security", "minor")],
        "new_reliability_rating": [Issue("bug-risk", "major")],
        "new_maintainability_rating": [Issue("style", "major")] * 10,
    }
    for name, issues in cases.items():
        gate = evaluate_gate(GateConfig(), measures(issues, sloc=10, duplications=0), issues)
        failed = {c["name"] for c in gate["conditions"] if c["status"] == "failed"}
        assert name in failed, (name, gate)
    gate = evaluate_gate(GateConfig(), measures([], sloc=10, duplications=1), [])
    assert [c["name"] for c in gate["conditions"] if c["status"] == "failed"] == [
        "new_duplications"]  # fmt: skip
    crit = [Issue("bug-risk", "critical")]
    gate = evaluate_gate(GateConfig(), measures(crit, sloc=10, duplications=0), crit)
    assert {"new_critical_blocker_findings", "new_reliability_rating"} <= {
        c["name"] for c in gate["conditions"] if c["status"] == "failed"}  # fmt: skip


def test_max_new_findings_applies_to_new_code() -> None:
    issues = [Issue("style", "info")] * 3
    gate = evaluate_gate(GateConfig(max_new_findings=2), measures(issues, 1000, 0), issues)
    (cond,) = [c for c in gate["conditions"] if c["name"] == "max_new_findings"]
    assert cond == {"name": "max_new_findings", "status": "failed", "actual": 3, "threshold": 2}


def test_debt_without_new_lines_is_rated_e() -> None:
    assert measures([Issue("style", "major")], sloc=0, duplications=0)["maintainability_rating"] == "E"
    assert measures([], sloc=0, duplications=0)["maintainability_rating"] == "A"


@given(st.lists(st.tuples(st.sampled_from(CATEGORIES), st.sampled_from(SEVERITIES)), max_size=30),
       st.integers(0, 5000))  # fmt: skip
def test_measures_add_up(pairs: list[tuple[str, str]], sloc: int) -> None:
    issues = [Issue(c, s, True) for c, s in pairs]
    v = measures(issues, sloc, 0)
    assert v["findings_total"] == len(issues) == sum(v[f"findings_{s}"] for s in SEVERITIES)
    assert v["bugs"] + v["vulnerabilities"] + v["code_smells"] == len(issues)
    assert v["reliability_rating"] in "ABCDE" and v["maintainability_rating"] in "ABCDE"
    # The gate passes exactly when every condition does, and never on a bad rating.
    gate = evaluate_gate(GateConfig(), v, issues)
    assert (gate["status"] == "passed") == all(c["status"] == "passed" for c in gate["conditions"])
    if v["security_rating"] != "A":
        assert gate["status"] == "failed"
