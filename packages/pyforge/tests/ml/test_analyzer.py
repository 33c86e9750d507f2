"""The ``ml-bugs`` analyzer: registered through the entry point, findings carry the model's data."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyforge.analysis.config import config_from_table
from pyforge.analysis.engine import analyze_text, build_plan
from pyforge.analysis.findings import Category
from pyforge.analysis.registry import get_registry
from pyforge.ml import detector as detector_module
from pyforge.ml.detector import Detection
from pyforge.ml.modelinfo import model_info

CODE = "def pick(items, index):\n    if index < len(items):\n        return items[index]\n    return None\n"


def test_registered_through_the_entry_point_with_bug_risk_rules() -> None:
    registry = get_registry()
    assert "ml-bugs" in registry.analyzers
    analyzer = registry.analyzers["ml-bugs"]
    assert not analyzer.default_enabled  # opt-in: enable = ["ml-bugs"]
    assert analyzer.version == model_info().version
    (rule,) = analyzer.rules.values()
    assert (rule.id, rule.category) == ("BUG-ML101", Category.BUG_RISK)


def _analyze(code: str):
    table = {"disable": ["style", "security", "mypy"], "enable": ["ml-bugs"]}
    config = config_from_table(table, root=Path("."))
    plan = build_plan([get_registry().analyzers["ml-bugs"]], config.settings)
    return analyze_text(code, "m.py", config.settings, plan)


def test_findings_carry_probability_and_repair(monkeypatch: pytest.MonkeyPatch) -> None:
    # Force one detection so the test does not depend on what the model thinks of CODE.
    fake = Detection("m.py", "pick", 2, 8, 2, 13, "wrong-comparison", 0.93,
                     "replace `<` with `<=`", "Possible wrong comparison bug: replace `<` with `<=`.")  # fmt: skip

    class Fake:
        info = model_info()

        def detect_source(self, source: str, path: str, threshold: float) -> list[Detection]:
            assert threshold == model_info().threshold
            return [fake]

    monkeypatch.setattr(detector_module, "default_detector", Fake)
    report = _analyze(CODE)
    (finding,) = [f for f in report.findings if f.rule.startswith("BUG-ML")]
    assert finding.rule == "BUG-ML101"
    assert finding.properties["kind"] == "wrong-comparison"
    assert (finding.line, finding.column) == (2, 8)
    assert finding.properties["probability"] == 0.93
    assert finding.properties["repair"] == "replace `<` with `<=`"
    assert finding.properties["model_version"] == model_info().version


def test_real_model_runs_at_the_default_threshold() -> None:
    report = _analyze(CODE)
    for f in report.findings:
        if f.rule.startswith("BUG-ML"):
            assert f.properties["probability"] >= model_info().threshold


def test_unparsable_file_gives_no_ml_finding() -> None:
    report = _analyze("def f(:\n    pass\n")
    assert not [f for f in report.findings if f.rule.startswith("BUG-ML")]
