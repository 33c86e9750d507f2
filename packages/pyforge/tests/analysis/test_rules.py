"""Every built-in rule against its positive and negative example file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pyforge.analysis.registry import get_registry

from .conftest import EXAMPLES, OFFLINE, analyze_dir, example_config, expected_lines

OWN_RULES = sorted(
    rule.id
    for analyzer in get_registry().analyzers.values()
    for rule in analyzer.rules.values()
    if not rule.id.startswith(("STY-", "TYP201"))
)


def _run_example(name: str, tmp_path: Path) -> tuple[str, list[tuple[str, int]]]:
    source = EXAMPLES / name
    text = source.read_text(encoding="utf-8")
    shutil.copy(source, tmp_path / "example.py")
    table = {**OFFLINE, **example_config(text)}
    # The rule under test is selected by name, so that rules off by default run too.
    table["select"] = [*table.get("select", ["ALL"]), name.split("_", 1)[0]]
    report = analyze_dir(tmp_path, table)
    return text, [(f.rule, f.line) for f in report.findings]


def test_every_rule_has_examples() -> None:
    missing = [
        f"{rid}_{kind}.py"
        for rid in OWN_RULES
        for kind in ("pos", "neg")
        if not (EXAMPLES / f"{rid}_{kind}.py").is_file()
    ]
    assert not missing
    assert len(OWN_RULES) >= 20


@pytest.mark.parametrize("rule", OWN_RULES)
def test_positive_example(rule: str, tmp_path: Path) -> None:
    text, found = _run_example(f"{rule}_pos.py", tmp_path)
    expected = expected_lines(text, rule)
    assert expected, "the positive example marks no '# expect:' line"
    assert sorted(line for r, line in found if r == rule) == expected


@pytest.mark.parametrize("rule", OWN_RULES)
def test_negative_example(rule: str, tmp_path: Path) -> None:
    _text, found = _run_example(f"{rule}_neg.py", tmp_path)
    assert [line for r, line in found if r == rule] == []
