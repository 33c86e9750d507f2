"""The proof that the fixes keep behaviour: apply every safe fix to copies of pure-Python
standard-library modules and run CPython's own tests for them against the copies.

The modules were chosen because the codemods fire in them (every fixable rule at least once
over the set) and their tests pass when the module is imported from another directory
(``linecache`` and ``tabnanny`` tests, for instance, expect the module's stdlib location).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
from collections import Counter
from pathlib import Path

from pyforge.refactor import FIXABLE_RULES, fix_source

MODULES = (
    "fractions", "cgi", "pstats", "difflib", "codeop", "xdrlib", "rlcompleter",
    "pickletools", "optparse", "bdb", "webbrowser", "plistlib", "fileinput", "mailbox",
    "pickle", "smtplib", "ipaddress", "wave",
)  # fmt: skip
STDLIB = Path(sysconfig.get_paths()["stdlib"])


def _run(args: list[str], lib: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(lib), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONSAFEPATH", None)
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_fixed_stdlib_modules_pass_cpythons_own_tests(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    counts: Counter[str] = Counter()
    for name in MODULES:
        original = (STDLIB / f"{name}.py").read_text(encoding="utf-8")
        result = fix_source(original, f"{name}.py")
        assert result.total > 0, f"no fix applied to {name}"
        ast.parse(result.source)
        assert result.source != original
        (lib / f"{name}.py").write_text(result.source, encoding="utf-8")
        counts.update(result.counts)
    assert set(counts) == set(FIXABLE_RULES), counts  # every codemod is exercised
    assert sum(counts.values()) >= 30

    # The tests must really import the fixed copies, not the interpreter's modules.
    probe = "import importlib, sys\n" + "\n".join(
        f"print(importlib.import_module({n!r}).__file__)" for n in MODULES
    )
    where = _run(["-c", probe], lib, tmp_path)
    assert where.returncode == 0, where.stderr
    assert where.stdout.split() == [str(lib / f"{n}.py") for n in MODULES]

    tests = [f"test.test_{n}" for n in MODULES]
    run = _run(["-m", "unittest", *tests], lib, tmp_path)
    assert run.returncode == 0, run.stderr[-5000:]
    assert "OK" in run.stderr.splitlines()[-1]
    ran = next(line for line in run.stderr.splitlines() if line.startswith("Ran "))
    assert int(ran.split()[1]) > 1500  # the suites really ran


def test_unfixed_copies_pass_too(tmp_path: Path) -> None:
    """The control: the same tests against unmodified copies (so a failure above is the
    fixes' doing, not the copying's)."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for name in MODULES[:4]:
        shutil.copy(STDLIB / f"{name}.py", lib / f"{name}.py")
    run = _run(["-m", "unittest", *(f"test.test_{n}" for n in MODULES[:4])], lib, tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
