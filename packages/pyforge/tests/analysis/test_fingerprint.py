"""Fingerprints survive unrelated edits and tell identical findings apart."""

from __future__ import annotations

from .conftest import analyze_code

CODE = """\
def f(a=[]):
    if a == None:
        return 1
    return a == None
"""


def _prints(code: str) -> dict[tuple[str, int], str]:
    report = analyze_code(code)
    return {(f.rule, i): f.fingerprint for i, f in enumerate(report.findings)}


def test_stable_when_lines_are_added_above() -> None:
    before = analyze_code(CODE).findings
    after = analyze_code("import os\n\n\n# a comment\nX = 1\n" + CODE).findings
    assert [f.fingerprint for f in before] == [f.fingerprint for f in after]
    assert [f.line + 5 for f in before] == [f.line for f in after]


def test_stable_when_whitespace_changes() -> None:
    respaced = CODE.replace("a == None", "a  ==  None").replace("    ", "\t")
    assert [f.fingerprint for f in analyze_code(CODE).findings] == [
        f.fingerprint for f in analyze_code(respaced).findings
    ]


def test_distinct_for_repeated_identical_findings_and_other_files() -> None:
    code = "def f(a):\n    x = a == None\n    x = a == None\n    return x\n"
    prints = [f.fingerprint for f in analyze_code(code).findings if f.rule == "BUG104"]
    assert len(prints) == 2 and len(set(prints)) == 2
    other = [f.fingerprint for f in analyze_code(code, path="n.py").findings if f.rule == "BUG104"]
    assert not set(prints) & set(other)


def test_changes_when_the_flagged_code_changes() -> None:
    a = {f.rule: f.fingerprint for f in analyze_code(CODE).findings}
    b = {f.rule: f.fingerprint for f in analyze_code(CODE.replace("a=[]", "b=[]")).findings}
    assert a["BUG101"] != b["BUG101"]
