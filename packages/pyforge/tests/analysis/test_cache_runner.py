"""Parallel runs, the cache, progress reporting and the library API."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pyforge.analysis import analyze_paths, analyze_source
from pyforge.analysis.config import config_from_table
from pyforge.analysis.runner import guided_chunks

from .conftest import OFFLINE

FILES = {
    f"pkg/m{i}.py": f"def f{i}(a=[]):\n    if a == None:\n        return {i}\n" for i in range(8)
}


def _run(root: Path, cache: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    config = config_from_table(OFFLINE, root=root)
    return analyze_paths([root], config, cache_dir=cache, **kwargs)  # type: ignore[arg-type]


def _summary(report) -> list[tuple[str, int, str]]:  # type: ignore[no-untyped-def]
    return [(f.rule, f.line, f.fingerprint) for f in report.findings]


def test_parallel_equals_serial_and_cache_is_reused(write_tree: Callable, tmp_path: Path) -> None:
    root = write_tree(FILES)
    cache = tmp_path / "cache"
    seen: list[tuple[int, int]] = []
    cold = _run(root, cache, jobs=2, progress=lambda d, t: seen.append((d, t)))
    assert cold.cache_hits == 0
    assert seen[-1] == (8, 8)
    serial = _run(root, cache, jobs=1, use_cache=False)
    assert _summary(serial) == _summary(cold)
    warm = _run(root, cache, jobs=2)
    assert warm.cache_hits == 8
    assert _summary(warm) == _summary(cold)
    assert warm.to_dict()["files"] == cold.to_dict()["files"]

    (root / "pkg/m3.py").write_text("def g(x={}):\n    return x\n", encoding="utf-8")
    changed = _run(root, cache, jobs=2)
    assert changed.cache_hits == 7
    assert [f for f in changed.findings if f.path == "pkg/m3.py"][0].line == 1

    stricter = analyze_paths(
        [root], config_from_table({**OFFLINE, "ignore": ["BUG104"]}, root=root), cache_dir=cache
    )
    assert stricter.cache_hits == 0  # settings are part of the key
    assert all(f.rule != "BUG104" for f in stricter.findings)


def test_cache_files_are_json_only(write_tree: Callable, tmp_path: Path) -> None:
    root = write_tree(FILES)
    _run(root, tmp_path / "cache", jobs=1)
    entries = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert entries
    assert {p.suffix for p in entries if p.name not in {".gitignore", "CACHEDIR.TAG"}} == {".json"}


def test_changed_since(write_tree: Callable, tmp_path: Path) -> None:
    root = write_tree(FILES)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=root, check=True)
    (root / "pkg/m1.py").write_text("def g(x={}):\n    return x\n", encoding="utf-8")
    (root / "pkg/new.py").write_text("def h(y=[]):\n    return y\n", encoding="utf-8")
    report = _run(root, tmp_path / "c", jobs=1, changed_since="HEAD")
    assert [f.path for f in report.files] == ["pkg/m1.py", "pkg/new.py"]


def test_analyze_source_runs_every_default_analyzer() -> None:
    report = analyze_source("import os\n\ndef f(x=[]):\n    return eval(x)\n", "snippet.py")
    rules = {f.rule for f in report.findings}
    assert {"BUG101", "MNT-F401", "SEC-S307", "TYP101"} <= rules
    assert report.path == "snippet.py"
    assert report.to_dict()["functions"][0]["qualname"] == "f"


def test_engine_imports_no_web_stack_or_kit(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(a=[]):\n    return a\n", encoding="utf-8")
    # Through the real ``pyforge`` entry point, as a user runs it.
    code = (
        "import sys\n"
        "import pyforge.analysis\n"
        "from pyforge.cli import main\n"
        f"sys.argv = ['pyforge', 'analyze', {str(tmp_path)!r}, '--format', 'json', '--no-cache']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "bad = [m for m in ('fastapi', 'sqlalchemy', 'forgekit', 'starlette') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print('clean')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("clean")


def test_mypy_errors_become_findings(write_tree: Callable) -> None:
    root = write_tree({
        "typed.py": "def add(a: int, b: int) -> int:\n    return a + b\n\n\nadd(1, 'two')\n",
        "clean.py": "def ok() -> int:\n    return 1\n",
    })  # fmt: skip
    config = config_from_table(
        {"disable": ["style", "security", "deadcode"], "enable": ["mypy"]}, root=root
    )
    report = analyze_paths([root], config, jobs=1, use_cache=False)
    (finding,) = [f for f in report.findings if f.rule == "TYP201"]
    assert (finding.path, finding.line, finding.category.value) == ("typed.py", 5, "types")
    assert "[arg-type]" in finding.message
    assert not [n for n in report.notes if "mypy" in n.message]


def test_guided_chunks_cover_every_file_once_and_end_small() -> None:
    sizes = [1000 - 3 * i for i in range(300)] + [5] * 100
    chunks = guided_chunks(sizes, 2)
    assert sorted(i for c in chunks for i in c) == list(range(len(sizes)))
    totals = [sum(sizes[i] for i in c) for c in chunks]
    assert chunks[0][0] == 0  # the biggest file goes first
    assert totals[0] == max(totals)
    assert totals[-1] <= sum(sizes) / 20  # the run ends on a small chunk
    assert guided_chunks([7], 4) == [[0]]
    assert guided_chunks([], 2) == []


def test_ruff_format_finding_spans_the_first_change(
    write_tree: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `ruff format --check` is read from its GitLab report (no replacement text): the finding
    # keeps the span of the first change, on the right file, even inside a GitLab job whose
    # CI_PROJECT_DIR is elsewhere.
    monkeypatch.setenv("CI_PROJECT_DIR", "/nowhere")
    root = write_tree({
        "pkg/ugly.py": "x = 1\n\n\n\n\ny = [1,2]\nz = 3\n",
        "pkg/tidy.py": "x = 1\n",
    })  # fmt: skip
    config = config_from_table({"disable": ["security", "deadcode"]}, root=root)
    report = analyze_paths([root], config, jobs=1, use_cache=False)
    (finding,) = [f for f in report.findings if f.rule == "STY-FORMAT"]
    # What ruff's JSON report says (its fix replaces lines 4-6 up to ``[1,2]``).
    assert (finding.path, finding.line, finding.column) == ("pkg/ugly.py", 4, 1)
    assert (finding.end_line, finding.end_column) == (6, 8)
    assert finding.message == "File would be reformatted"
