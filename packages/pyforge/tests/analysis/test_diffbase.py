"""``pyforge analyze --diff-base REF``: findings on changed lines only, in a real git repository
made by the test; SARIF for GitHub code scanning and a Markdown PR comment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyforge.analysis.diffbase import on_changed_lines, parse_diff
from pyforge.analysis.findings import Category, Finding, Severity

GIT = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "init.defaultBranch=main"]
OLD = "def check(x: str) -> object:\n    return eval(x)\n"  # a critical, on main already
BARE = "\n\ndef parse(x: str) -> int:\n    try:\n        return int(x)\n    except:\n        return 0\n"
MUTABLE = "def keep(v: int, seen: dict[int, int] = {}) -> dict[int, int]:\n    return seen\n"


def git(root: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=root, check=True, capture_output=True)


def analyze(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "pyforge.cli", "analyze", *args], cwd=root,
                          capture_output=True, text=True, env=env, timeout=120, check=False)  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: pkg/old.py (eval); feature: a bare except appended to old.py, an untracked
    pkg/new.py; main moved on meanwhile with a finding of its own in pkg/later.py."""
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.pyforge]\ndisable = ["style"]\n')
    (root / "pkg" / "old.py").write_text(OLD)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "main")
    git(root, "checkout", "-qb", "feature")
    (root / "pkg" / "old.py").write_text(OLD + BARE)
    git(root, "commit", "-qam", "feature")
    git(root, "checkout", "-q", "main")
    (root / "pkg" / "later.py").write_text(MUTABLE.replace("keep", "later"))
    git(root, "add", ".")
    git(root, "commit", "-qm", "main moves on")
    git(root, "checkout", "-q", "feature")
    (root / "pkg" / "new.py").write_text(MUTABLE)  # untracked: every line is new
    return root


def test_only_findings_on_changed_lines_and_the_gate_follows_the_change(repo: Path) -> None:
    full = analyze(repo, "-f", "json", "--no-cache")
    assert full.returncode == 1, full.stderr  # the old eval() fails the whole tree's gate
    assert "SEC-S307" in {f["rule"] for f in json.loads(full.stdout)["findings"]}

    result = analyze(repo, "--diff-base", "main", "-f", "json")
    assert result.returncode == 0, (result.stdout, result.stderr)
    found = {(f["rule"], f["path"], f["line"]) for f in json.loads(result.stdout)["findings"]}
    # The bare except (line 8 of old.py) and the untracked file's mutable default; not the
    # old eval() on an unchanged line, nor pkg/later.py, which only main changed.
    assert found == {("BUG103", "pkg/old.py", 8), ("BUG101", "pkg/new.py", 1)}


def test_sarif_for_github_code_scanning(repo: Path) -> None:
    result = analyze(repo, "--diff-base", "main", "--format", "sarif")
    assert result.returncode == 0, result.stderr
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "PyForge" and driver["version"]
    rules = [r["id"] for r in driver["rules"]]
    assert len(rules) == len(set(rules))
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file://")
    assert {r["ruleId"] for r in run["results"]} == {"BUG103", "BUG101"}
    for r in run["results"]:
        # What code scanning requires of a result to place it on a pull request's diff.
        assert rules[r["ruleIndex"]] == r["ruleId"] and r["message"]["text"]
        assert r["level"] in ("error", "warning", "note")
        loc = r["locations"][0]["physicalLocation"]
        uri = loc["artifactLocation"]["uri"]
        assert not uri.startswith("/") and ":" not in uri and uri.startswith("pkg/")
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
        # Alerts follow a finding across pushes by this fingerprint, not by its line.
        fp = r["partialFingerprints"]["pyforgeFingerprint/v1"]
        assert isinstance(fp, str) and len(fp) >= 16
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"]
    assert_valid_sarif(log)


def assert_valid_sarif(log: dict[str, object]) -> None:
    """Validate against pydantic models generated from the official SARIF 2.1.0 JSON schema
    (offline; unknown properties are refused, as the schema's additionalProperties: false)."""
    from pydantic import ValidationError
    from pydantic_sarif.model import StaticAnalysisResultsFormatSarifVersion210JsonSchema as Sarif

    Sarif.model_validate(log)
    # The check bites: a result without its required message is refused.
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0].pop("message")
    with pytest.raises(ValidationError):
        Sarif.model_validate(broken)


def test_markdown_summary_for_a_pr_comment(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "comment.md"
    result = analyze(repo, "--diff-base", "main", "--format", "markdown", "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert text.startswith("> PyForge: only findings on lines changed since `main` (2 of 3")
    assert "quality gate ✅ passed" in text
    assert "BUG103" in text and "BUG101" in text and "SEC-S307" not in text


def test_a_critical_on_a_changed_line_fails(repo: Path) -> None:
    (repo / "pkg" / "new.py").write_text("def run(x: str) -> object:\n    return eval(x)\n")
    result = analyze(repo, "--diff-base", "main", "-f", "json")
    assert result.returncode == 1
    found = {(f["rule"], f["path"]) for f in json.loads(result.stdout)["findings"]}
    assert found == {("SEC-S307", "pkg/new.py"), ("BUG103", "pkg/old.py")}


def test_bad_ref_and_no_repository(repo: Path, tmp_path: Path) -> None:
    result = analyze(repo, "--diff-base", "no-such-branch")
    assert result.returncode == 2 and "diff-base" in result.stderr and "Traceback" not in result.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.py").write_text("x = 1\n")
    result = analyze(plain, "--diff-base", "main")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_parse_diff_hunks() -> None:
    text = (
        "diff --git a/pkg/a.py b/pkg/a.py\n--- a/pkg/a.py\n+++ b/pkg/a.py\n"
        "@@ -3,0 +4,2 @@\n+x\n+y\n@@ -10 +12 @@\n-old\n+new\n@@ -20,3 +22,0 @@\n-a\n-b\n-c\n"
        "diff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n"
    )
    assert parse_diff(text) == {"pkg/a.py": frozenset({4, 5, 12})}


@given(st.lists(st.tuples(st.integers(1, 500), st.integers(0, 20)), max_size=20))
def test_parse_diff_property(hunks: list[tuple[int, int]]) -> None:
    """Every added range comes back, and nothing else (a count of 0 adds no line)."""
    body = "".join(f"@@ -1,1 +{start},{count} @@\n" + "+x\n" * count for start, count in hunks)
    parsed = parse_diff("--- a/f.py\n+++ b/f.py\n" + body)
    expected = {n for start, count in hunks for n in range(start, start + count)}
    assert parsed == {"f.py": frozenset(expected)}


def test_a_finding_spanning_a_changed_line_is_kept() -> None:
    f = Finding(rule="X1", category=Category.BUG_RISK, severity=Severity.MAJOR, message="m",
                path="a.py", line=3, end_line=6)  # fmt: skip
    assert on_changed_lines(f, {"a.py": frozenset({5})})
    assert not on_changed_lines(f, {"a.py": frozenset({2, 7})})
    assert on_changed_lines(f, {"a.py": None}) and not on_changed_lines(f, {"b.py": None})
