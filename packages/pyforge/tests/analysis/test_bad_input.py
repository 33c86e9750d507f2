"""Bad input never crashes a run: each case gets a finding or a note, the rest is analysed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from pyforge.analysis import InputError

from .conftest import OFFLINE, analyze_dir

GOOD = "def ok(a):\n    return a == None\n"


def _by_path(report):  # type: ignore[no-untyped-def]
    return {f.path: f for f in report.files}


def test_syntax_error_is_a_finding_and_the_rest_is_analysed(write_tree: Callable) -> None:
    root = write_tree({"bad.py": "def f(:\n    pass\n", "good.py": GOOD})
    report = analyze_dir(root, OFFLINE)
    files = _by_path(report)
    assert files["bad.py"].status == "error"
    (err,) = [f for f in report.findings if f.path == "bad.py"]
    assert (err.rule, err.severity.value, err.line) == ("BUG001", "blocker", 1)
    assert files["good.py"].status == "ok"
    assert any(f.rule == "BUG104" and f.path == "good.py" for f in report.findings)


def test_undecodable_bytes_and_wrong_cookie(write_tree: Callable) -> None:
    root = write_tree({
        "latin.py": b"x = 1\ny = '\xe9\xff'\n",
        "cookie.py": b"# -*- coding: klingon -*-\nx = 1\n",
        "declared.py": "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1"),
        "good.py": GOOD,
    })  # fmt: skip
    report = analyze_dir(root, OFFLINE)
    by_path = {f.path: f for f in report.findings if f.rule.startswith("BUG00")}
    assert (by_path["latin.py"].rule, by_path["latin.py"].line) == ("BUG002", 2)
    assert (by_path["cookie.py"].rule, by_path["cookie.py"].line) == ("BUG001", 1)
    assert "declared.py" not in by_path
    assert _by_path(report)["declared.py"].status == "ok"


def test_nul_bytes(write_tree: Callable) -> None:
    root = write_tree({"nul.py": b"x = 1\ny = 2\x00\n", "good.py": GOOD})
    report = analyze_dir(root, OFFLINE)
    (finding,) = [f for f in report.findings if f.path == "nul.py"]
    assert (finding.rule, finding.line) == ("BUG001", 2)
    assert "null byte" in finding.message


def test_empty_file(write_tree: Callable) -> None:
    root = write_tree({"empty.py": "", "__init__.py": "\n"})
    report = analyze_dir(root, OFFLINE)
    files = _by_path(report)
    assert files["empty.py"].status == "ok"
    assert files["empty.py"].metrics is not None
    assert files["empty.py"].metrics.raw.loc == 0
    assert files["empty.py"].metrics.maintainability_index == 100.0
    assert report.findings == []


def test_huge_generated_file_is_skipped_with_a_note(write_tree: Callable) -> None:
    line = "VALUE_%07d = %d\n"
    big = "".join(line % (i, i) for i in range(10_000_000 // len(line % (0, 0)) + 1))
    assert len(big) >= 10_000_000
    root = write_tree({"generated.py": big, "good.py": GOOD})
    report = analyze_dir(root, {**OFFLINE, "max_file_size": 5_000_000})
    assert _by_path(report)["generated.py"].status == "skipped"
    assert any(n.path == "generated.py" and "max_file_size" in n.message for n in report.notes)
    assert _by_path(report)["good.py"].status == "ok"


@pytest.mark.parametrize(
    "code",
    [
        "x = " + "(" * 300 + "1" + ")" * 300 + "\n",
        "x = " + " + ".join(["a"] * 60_000) + "\n",
        "".join("    " * i + f"if a{i}:\n" for i in range(120)) + "    " * 120 + "pass\n",
        "x = " + "[" * 150 + "]" * 150 + "\n",
    ],
    ids=["parens", "long-chain", "deep-blocks", "deep-lists"],
)
def test_pathological_nesting_never_raises(code: str, write_tree: Callable) -> None:
    root = write_tree({"deep.py": code, "good.py": GOOD})
    report = analyze_dir(root, OFFLINE)
    deep = _by_path(report)["deep.py"]
    assert deep.status in {"ok", "error", "skipped"}
    if deep.status == "skipped":
        assert any(n.path == "deep.py" for n in report.notes)
    assert _by_path(report)["good.py"].status == "ok"


def test_symlink_loops_and_broken_links(write_tree: Callable) -> None:
    root = write_tree({"pkg/a.py": GOOD})
    os.symlink(root / "pkg", root / "pkg" / "loop")  # a directory loop
    os.symlink(root / "x.py", root / "y.py")
    os.symlink(root / "y.py", root / "x.py")  # a file loop
    os.symlink(root / "missing.py", root / "dangling.py")
    report = analyze_dir(root, OFFLINE)
    assert [f.path for f in report.files] == ["pkg/a.py"]
    messages = {n.path: n.message for n in report.notes}
    assert "loop" in messages["x.py"] or "loop" in messages["y.py"]
    assert "dangling.py" in messages


def test_unreadable_file(write_tree: Callable) -> None:
    root = write_tree({"good.py": GOOD, "locked.py": GOOD})
    (root / "locked.py").chmod(0)
    # Reading /proc/self/mem from offset 0 fails with EIO even as root, where chmod does not
    # stop a read.
    os.symlink("/proc/self/mem", root / "mem.py")
    report = analyze_dir(root, OFFLINE)
    files = _by_path(report)
    assert files["mem.py"].status == "skipped"
    assert any(n.path == "mem.py" and "skipped" in n.message for n in report.notes)
    if os.geteuid() != 0:
        assert files["locked.py"].status == "skipped"
    assert files["good.py"].status == "ok"


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        analyze_dir(tmp_path / "nope")
