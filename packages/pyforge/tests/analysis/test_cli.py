"""The commands: formats, exit codes, baseline, gate, rules, explain."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pyforge.analysis.cli import register

CONFIG = '[tool.pyforge]\ndisable = ["style"]\n'
CODE = {
    "pyproject.toml": CONFIG,
    "pkg/__init__.py": "",
    "pkg/a.py": "import subprocess\n\n\ndef run(cmd: str, opts: list = []) -> None:\n"
    "    subprocess.call(cmd, shell=True)\n",
    "pkg/b.py": "def ok(x: int) -> int:\n    return x if x else -x\n",
}


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test app."""

    register(app)
    return app


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), list(args))
    return result.exit_code, result.stdout


def _pyforge(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyforge.analysis", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_json_report_schema_and_gate_failure(write_tree: Callable) -> None:
    root = write_tree(CODE)
    code, out = _invoke("analyze", str(root), "--format", "json", "--no-cache")
    assert code == 1  # S602 (shell=True) is critical: the default gate fails
    data = json.loads(out)
    assert data["schema_version"] == "1.0"
    summary = data["summary"]
    assert {"files", "functions", "findings_by_severity", "duration_s"} <= set(summary)
    assert summary["files"] == 3 and summary["functions"] == 2
    files = {f["path"]: f for f in data["files"]}
    assert set(files) == {"pkg/__init__.py", "pkg/a.py", "pkg/b.py"}
    metrics = files["pkg/b.py"]["metrics"]
    assert {"loc", "sloc", "comments", "maintainability_index", "type_coverage"} <= set(metrics)
    assert metrics["type_coverage"] == 100.0
    (fn,) = files["pkg/b.py"]["functions"]
    assert (fn["name"], fn["qualname"], fn["line"], fn["end_line"], fn["cyclomatic"],
            fn["cognitive"]) == ("ok", "ok", 1, 2, 2, 1)  # fmt: skip
    rules = {f["rule"] for f in data["findings"]}
    assert {"SEC-S602", "BUG101"} <= rules
    for f in data["findings"]:
        assert {"rule", "category", "severity", "message", "path", "line", "column",
                "end_line", "fingerprint"} <= set(f)  # fmt: skip
    assert data["gate"]["passed"] is False


def test_sarif_is_shaped_for_github(write_tree: Callable) -> None:
    root = write_tree(CODE)
    code, out = _invoke("analyze", str(root), "-f", "sarif", "--no-cache")
    assert code == 1
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0" and "sarif-2.1.0" in sarif["$schema"]
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    assert all(r["shortDescription"]["text"] for r in rules)
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in {"error", "warning", "note"}
        assert result["message"]["text"]
        loc = result["locations"][0]["physicalLocation"]
        assert not loc["artifactLocation"]["uri"].startswith("/")
        assert loc["region"]["startLine"] >= 1
        assert result["partialFingerprints"]
    sec = next(r for r in rules if r["id"] == "SEC-S602")
    assert float(sec["properties"]["security-severity"]) >= 9


def test_markdown_and_table_outputs(write_tree: Callable, tmp_path: Path) -> None:
    root = write_tree(CODE)
    md = tmp_path / "report.md"
    code, _ = _invoke("analyze", str(root), "-f", "markdown", "-o", str(md), "--no-cache")
    assert code == 1
    text = md.read_text(encoding="utf-8")
    assert text.startswith("## PyForge analysis: quality gate ❌ failed")
    assert "| Files | Functions | Findings |" in text and "`SEC-S602`" in text
    code, out = _invoke("analyze", str(root), "--no-cache")
    assert code == 1
    assert "Top findings" in out and "Most complex functions" in out
    assert "Quality gate failed" in out


def test_gate_passes_with_exit_0(write_tree: Callable) -> None:
    root = write_tree({"pyproject.toml": CONFIG, "m.py": "def f(x: int) -> int:\n    return x\n"})
    code, _ = _invoke("analyze", str(root), "-f", "json", "--no-cache")
    assert code == 0


def test_configured_gate_conditions(write_tree: Callable) -> None:
    root = write_tree({
        "pyproject.toml": CONFIG + "[tool.pyforge.gate]\nfail_on = []\nmax_cyclomatic = 2\n"
                                   "min_type_coverage = 90\n",
        "m.py": "def f(a, b, c):\n    return a and b and c\n",
    })  # fmt: skip
    code, out = _invoke("analyze", str(root), "-f", "json", "--no-cache")
    assert code == 1
    gate = json.loads(out)["gate"]
    assert [c["passed"] for c in gate["conditions"]] == [False, False]


def test_baseline_reports_only_new_findings(write_tree: Callable, tmp_path: Path) -> None:
    root = write_tree(CODE)
    baseline = tmp_path / "baseline.json"
    code, _ = _invoke("baseline", "create", str(root), "-o", str(baseline), "--no-cache")
    assert code == 0
    assert json.loads(baseline.read_text())["findings"]
    code, out = _invoke("analyze", str(root), "-f", "json", "--baseline", str(baseline),
                        "--no-cache")  # fmt: skip
    assert code == 0 and json.loads(out)["findings"] == []
    # New code above the old findings: only the new finding is reported.
    a = root / "pkg/a.py"
    a.write_text("def new(x=[]):\n    return x\n\n\n" + a.read_text(), encoding="utf-8")
    code, out = _invoke("analyze", str(root), "-f", "json", "--baseline", str(baseline),
                        "--no-cache")  # fmt: skip
    data = json.loads(out)
    assert [(f["rule"], f["line"]) for f in data["findings"] if f["rule"] != "TYP101"] == [
        ("BUG101", 1)
    ]
    assert data["summary"]["baseline"]["known"] >= 2
    assert code == 0


def test_rules_and_explain() -> None:
    code, out = _invoke("rules", "--format", "json")
    assert code == 0
    rules = {r["id"]: r for r in json.loads(out)}
    assert {"CPX101", "BUG101", "PRF101", "MNT201", "TYP201", "SEC-S602", "STY-E701",
            "BUG001"} <= set(rules)  # fmt: skip
    assert all(r["description"] for r in rules.values())
    code, out = _invoke("explain", "BUG101")
    assert code == 0 and "mutable-default-argument" in out and "How to fix" in out
    code, out = _invoke("explain", "S602")
    assert code == 0 and out.startswith("SEC-S602")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "does-not-exist"], "path does not exist: does-not-exist"),
        (["analyze", ".", "--format", "xml"], "unknown format 'xml'"),
        (["analyze", ".", "--baseline", "missing.json"], "baseline file not found"),
        (["analyze", ".", "--jobs", "0"], "--jobs must be at least 1"),
        (["explain", "NOPE999"], "unknown rule"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    proc = _pyforge(*args, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in proc.stderr


def test_bad_config_exits_2(write_tree: Callable) -> None:
    root = write_tree({"pyproject.toml": "[tool.pyforge]\nnope = 1\n", "m.py": "x = 1\n"})
    proc = _pyforge("analyze", ".", cwd=root)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unknown setting" in proc.stderr
