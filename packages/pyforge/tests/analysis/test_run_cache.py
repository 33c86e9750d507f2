"""The run-level cache: an unchanged tree is answered from one entry; any change misses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from pyforge.analysis.cli import register
from pyforge.analysis.runcache import entry_path, fast_main, lookup

CONFIG = '[tool.pyforge]\ndisable = ["style", "security", "mypy"]\n'
FILES = {
    "pyproject.toml": CONFIG,
    "pkg/__init__.py": "",
    "pkg/a.py": "def f(a=[]):\n    if a == None:\n        return 1\n",
    "pkg/b.py": "def ok(x: int) -> int:\n    return x if x else -x\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for rel, content in FILES.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    _age(root)
    return root


def _age(root: Path, seconds: float = 60.0) -> None:
    """Date the tree back: what was written just before a run is not trusted by stat alone
    (and a dependency modified during a run keeps the run from being stored)."""
    past = time.time() - seconds
    for path in [root, *root.rglob("*")]:
        os.utime(path, (past, past))


def _analyze(root: Path, cache: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "pyforge.analysis", "analyze", str(root), "--format", "json",
         "--cache-dir", str(cache), *extra],
        cwd=root.parent, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def _entry(root: Path, cache: Path) -> Path:
    return entry_path([str(root)], config_file=None, cache_dir=cache, baseline=None, fmt="json")


def _hits(root: Path, cache: Path) -> bool:
    return lookup(_entry(root, cache)) is not None


def _without_timing(data: dict[str, Any]) -> dict[str, Any]:
    summary = dict(data["summary"])
    summary.pop("duration_s")
    summary.pop("cache_hits")
    return {**data, "summary": summary}


def _paths(data: dict[str, Any]) -> set[str]:
    return {f["path"] for f in data["files"]}


def test_warm_json_equals_cold_json(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert not _hits(project, cache)
    code, cold = _analyze(project, cache)
    assert cold["summary"]["cache_hits"] == 0
    assert _hits(project, cache)
    warm_code, warm = _analyze(project, cache)
    assert warm_code == code
    assert warm["summary"]["cache_hits"] == 3
    assert isinstance(warm["summary"]["duration_s"], float)
    assert _without_timing(warm) == _without_timing(cold)
    # The same through the command line parser that runs before typer...
    assert fast_main(["analyze", str(project), "--format", "json", "--cache-dir", str(cache),
                      "--output", str(tmp_path / "out.json")]) == code  # fmt: skip
    served = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert _without_timing(served) == _without_timing(cold)
    # ... and through the typer command (``pyforge analyze`` with options it does not parse).
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    result = CliRunner().invoke(app, ["analyze", str(project), "--format", "json",
                                      "--cache-dir", str(cache), "--jobs=1"])  # fmt: skip
    assert result.exit_code == code
    assert _without_timing(json.loads(result.stdout)) == _without_timing(cold)


def test_changed_file_misses(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _analyze(project, cache)
    assert _hits(project, cache)
    (project / "pkg/b.py").write_text("def ok(x={}):\n    return x\n", encoding="utf-8")
    assert not _hits(project, cache)
    _, changed = _analyze(project, cache)
    assert any(f["path"] == "pkg/b.py" for f in changed["findings"])
    assert changed["summary"]["cache_hits"] == 2


def test_same_size_same_mtime_change_of_a_recent_file_misses(
    project: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    target = project / "pkg/a.py"
    target.write_bytes(target.read_bytes())  # recent: its stat alone proves nothing
    _analyze(project, cache)
    st = target.stat()
    target.write_text(target.read_text(encoding="utf-8").replace("1", "2"), encoding="utf-8")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime
    assert target.stat().st_size == st.st_size
    assert not _hits(project, cache)


def test_touched_but_identical_file_still_hits(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _, cold = _analyze(project, cache)
    target = project / "pkg/a.py"
    target.write_bytes(target.read_bytes())  # new mtime, same content
    os.utime(target, (time.time() - 30, time.time() - 30))
    assert _hits(project, cache)
    _, warm = _analyze(project, cache)
    assert _without_timing(warm) == _without_timing(cold)


def test_changed_config_misses(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _, cold = _analyze(project, cache)
    assert any(f["rule"] == "BUG104" for f in cold["findings"])
    (project / "pyproject.toml").write_text(CONFIG + 'ignore = ["BUG104"]\n', encoding="utf-8")
    assert not _hits(project, cache)
    _, changed = _analyze(project, cache)
    assert all(f["rule"] != "BUG104" for f in changed["findings"])


def test_new_config_file_closer_to_the_paths_misses(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _analyze(project, cache)
    (project / "pyforge.toml").write_text('disable = ["style", "security", "mypy"]\n'
                                          'ignore = ["BUG"]\n', encoding="utf-8")  # fmt: skip
    assert not _hits(project, cache)
    _, changed = _analyze(project, cache)
    assert all(not f["rule"].startswith("BUG") for f in changed["findings"])


def test_added_and_deleted_files_miss(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _, cold = _analyze(project, cache)
    (project / "pkg/c.py").write_text("X = 1\n", encoding="utf-8")
    assert not _hits(project, cache)
    _, added = _analyze(project, cache)
    assert _paths(added) == _paths(cold) | {"pkg/c.py"}
    _age(project)
    _analyze(project, cache)
    assert _hits(project, cache)
    (project / "pkg/c.py").unlink()
    (project / "pkg/b.py").unlink()
    assert not _hits(project, cache)
    _, deleted = _analyze(project, cache)
    assert _paths(deleted) == _paths(cold) - {"pkg/b.py"}


def test_no_cache_bypasses_every_cache(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _analyze(project, cache)
    assert _hits(project, cache)
    _, fresh = _analyze(project, cache, "--no-cache")
    assert fresh["summary"]["cache_hits"] == 0
    assert fast_main(["analyze", str(project), "--no-cache"]) is None


def test_fast_main_declines_what_it_does_not_understand(project: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    _analyze(project, tmp_path / "cache")
    base = ["analyze", str(project), "--cache-dir", cache]
    for extra in (["--format", "table"], ["--changed-since", "HEAD"], ["--jobs", "0"],
                  ["--format", "json", "--format", "sarif"], ["--help"], ["--", "x"]):  # fmt: skip
        assert fast_main([*base, *extra]) is None, extra
    assert fast_main(["rules"]) is None


def test_a_miss_is_looked_up_once_per_command_line(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fast_main's miss hands its entry to the command that analyses: the entry is computed
    (every path hashed) and looked up once, and the run is stored under it."""
    from pyforge.analysis import runcache
    from pyforge.analysis.command import fast_analyze

    calls: list[str] = []
    real_entry, real_lookup = runcache.entry_path, runcache.lookup

    def counting_entry(*args: Any, **kwargs: Any) -> Path:
        calls.append("entry")
        return real_entry(*args, **kwargs)

    def counting_lookup(entry: Path) -> runcache.Hit | None:
        calls.append("lookup")
        return real_lookup(entry)

    monkeypatch.setattr(runcache, "entry_path", counting_entry)
    monkeypatch.setattr(runcache, "lookup", counting_lookup)
    cache = tmp_path / "cache"
    argv = ["analyze", str(project), "--format", "json", "--cache-dir", str(cache),
            "--output", str(tmp_path / "out.json")]  # fmt: skip
    assert fast_main(argv) is None
    assert fast_analyze(argv) in (0, 1)  # analysed (exit 1 would be the gate)
    assert json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["summary"]["files"] == 3
    assert calls == ["entry", "lookup"]
    assert runcache.missed_entry(argv) is None  # taken by the analysis
    assert real_lookup(_entry(project, cache)) is not None  # stored under the same entry
    # Another command line does not take a miss that was not its own.
    sarif = [*argv[:2], "--format", "sarif", *argv[4:]]
    assert fast_main(sarif) is None
    assert runcache.missed_entry(argv) is None
    assert runcache.missed_entry(sarif) is None  # the one miss was dropped with the wrong line


def test_settings_digest_does_not_depend_on_hash_seed() -> None:
    # Set-valued settings were hashed in iteration order, so each process had its own
    # per-file cache keys whenever two or more analyzers were enabled or disabled.
    code = (
        "from pyforge.analysis.config import config_from_table as c;from pathlib import Path;"
        "print(c({'disable': ['style', 'security', 'mypy', 'duplication']},"
        " root=Path('.')).settings.digest)"
    )
    digests = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout  # fmt: skip
        for seed in range(4)
    }
    assert len(digests) == 1


def test_same_size_edit_during_a_long_run_misses(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file edited (same size, same coarse mtime) while a long run was going misses.

    The run read the file at its start; its stat is only worth something if the file was not
    modified within the clock's granularity of that moment, however long the run then took.
    """
    import types

    from pyforge.analysis import runcache
    from pyforge.analysis.command import analyze_command

    cache = tmp_path / "cache"
    target = project / "pkg/a.py"
    target.write_bytes(target.read_bytes())  # modified just before the run starts
    recorded = target.stat()
    # The run takes 30 s: it ends (and its entry is written) long after the file was read.
    late = types.SimpleNamespace(time_ns=lambda: time.time_ns() + 30_000_000_000,
                                 perf_counter=time.perf_counter)  # fmt: skip
    monkeypatch.setattr(runcache, "time", late)
    monkeypatch.chdir(project.parent)
    analyze_command([str(project)], fmt="json", output=tmp_path / "out.json", cache_dir=cache)
    monkeypatch.undo()
    assert _hits(project, cache)
    # Edited during the run, after it was read: same size, and (a coarse clock) same mtime.
    target.write_text(target.read_text(encoding="utf-8").replace("1", "2"), encoding="utf-8")
    os.utime(target, ns=(recorded.st_atime_ns, recorded.st_mtime_ns))
    assert target.stat().st_size == recorded.st_size
    assert not _hits(project, cache)
