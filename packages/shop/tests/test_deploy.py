"""deploy/prometheus/shop-ml-rules.yml: valid rules on metrics the app really exposes, with
promtool unit tests of the alerts (promtool is installed by `make tools`)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from shop.ml.features.drift import PSI_ALERT

PROMETHEUS = Path(__file__).resolve().parents[3] / "deploy" / "prometheus"
RULES, TESTS = "shop-ml-rules.yml", "shop-ml-rules.test.yml"


def _promtool() -> str:
    path = shutil.which("promtool") or shutil.which(
        "promtool", path=str(Path(sys.executable).parent)
    )
    if path is None:
        pytest.fail("promtool is not installed: run `make tools`")
    return path


def _run(*cmd: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_promtool_checks_the_rules_and_unit_tests_the_alerts() -> None:
    checked = _run(_promtool(), "check", "rules", RULES, cwd=PROMETHEUS)
    assert checked.returncode == 0 and "SUCCESS: 2 rules found" in checked.stdout, checked.stderr
    tested = _run(_promtool(), "test", "rules", TESTS, cwd=PROMETHEUS)
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr
    # The alert's line is the one the code calls drift.
    rules = yaml.safe_load((PROMETHEUS / RULES).read_text())["groups"][0]["rules"]
    drift = next(r for r in rules if r["alert"] == "ShopFeatureDrift")
    assert drift["expr"].strip().endswith(f"> {PSI_ALERT}")


def test_promtool_catches_a_wrong_drift_expectation(tmp_path: Path) -> None:
    """The unit test is not vacuous: expecting no alert where PSI stays at 0.4 fails."""
    shutil.copy(PROMETHEUS / RULES, tmp_path / RULES)
    tests = yaml.safe_load((PROMETHEUS / TESTS).read_text())
    tests["tests"] = tests["tests"][:1]
    tests["tests"][0]["alert_rule_test"][0]["exp_alerts"] = []
    (tmp_path / "wrong.test.yml").write_text(yaml.safe_dump(tests))
    failed = _run(_promtool(), "test", "rules", "wrong.test.yml", cwd=tmp_path)
    assert failed.returncode != 0 and "ShopFeatureDrift" in failed.stdout + failed.stderr
