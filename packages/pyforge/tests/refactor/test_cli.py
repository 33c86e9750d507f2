"""``pyforge suggest`` and ``pyforge fix``: formats, diff, atomic apply, rule choice, bad input."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from click.testing import Result
from typer.testing import CliRunner

from pyforge.refactor.cli import register

CODE = """\
import os  # kept


def f(x):
    if x > 3:
        return True
    return False


def g(items):
    out = []
    for item in items:
        out.append(item + 1)
    return out
"""
FIXED = """\
import os  # kept


def f(x):
    return bool(x > 3)


def g(items):
    out = [item + 1 for item in items]
    return out
"""


def _invoke(*args: str) -> Result:
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(CODE)
    (tmp_path / "pkg" / "clean.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "broken.py").write_text("def (:\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "skip.py").write_text(CODE)
    return tmp_path


def test_suggest_json_lists_located_suggestions(project: Path) -> None:
    result = _invoke("suggest", str(project), "--format", "json")
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)["suggestions"]
    assert [(Path(s["path"]).name, s["line"], s["rule"]) for s in items] == [
        ("mod.py", 5, "REF106"), ("mod.py", 11, "REF103"),
    ]  # fmt: skip
    assert items[0]["fix"] is True and items[0]["after"] == "return bool(x > 3)"
    assert set(items[0]) >= {"rule", "title", "message", "line", "column", "end_line",
                             "end_column", "before", "after", "safe", "fix", "name"}  # fmt: skip
    assert "broken.py" in result.stderr and "pyforge: note: skipped" in result.stderr


def test_suggest_table_and_rule_filter(project: Path) -> None:
    result = _invoke("suggest", str(project / "pkg" / "mod.py"), "--rule", "REF103")
    assert result.exit_code == 0
    assert "REF103" in result.stdout and "REF106" not in result.stdout


def test_fix_preview_prints_a_unified_diff_and_changes_nothing(project: Path) -> None:
    result = _invoke("fix", str(project), "--preview")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("--- a/") and "+++ b/" in result.stdout
    assert "-    if x > 3:\n" in result.stdout and "+    return bool(x > 3)\n" in result.stdout
    assert (project / "pkg" / "mod.py").read_text() == CODE


def test_fix_apply_rewrites_atomically_and_reports_counts(project: Path) -> None:
    target = project / "pkg" / "mod.py"
    target.chmod(0o640)
    result = _invoke("fix", str(project / "pkg"), "--apply")
    assert result.exit_code == 0, result.output
    assert result.stdout == "applied 2 fixes in 1 files (REF103: 1, REF106: 1)\n"
    assert target.read_text() == FIXED
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["broken.py", "clean.py", "mod.py"]
    again = _invoke("fix", str(project / "pkg"), "--apply")
    assert again.stdout == "applied 0 fixes in 0 files\n"


def test_fix_rule_picks_one_codemod(project: Path) -> None:
    result = _invoke("fix", str(project / "pkg" / "mod.py"), "--apply", "--rule", "REF106")
    assert result.stdout == "applied 1 fixes in 1 files (REF106: 1)\n"
    assert "out.append(item + 1)" in (project / "pkg" / "mod.py").read_text()


def test_fix_keeps_encoding_and_bom(tmp_path: Path) -> None:
    target = tmp_path / "latin.py"
    source = "# -*- coding: latin-1 -*-\ndef f(x):\n    if x == 'é':\n        return True\n    return False\n"
    target.write_bytes(source.encode("latin-1"))
    assert _invoke("fix", str(target), "--apply").exit_code == 0
    assert target.read_bytes().decode("latin-1").endswith("    return bool(x == 'é')\n")
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbfdef f(x):\n    if x:\n        return True\n    return False\n")
    _invoke("fix", str(bom), "--apply")
    assert bom.read_bytes() == b"\xef\xbb\xbfdef f(x):\n    return bool(x)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fix", "missing.py", "--preview"], "path does not exist: missing.py"),
        (["fix", "{p}", "--preview", "--apply"], "choose one of --preview and --apply"),
        (["fix", "{p}", "--rule", "REF101"], "rule REF101 has no automatic fix"),
        (["fix", "{p}", "--rule", "NOPE"], "unknown rule 'NOPE'"),
        (["suggest", "{p}", "--format", "xml"], "unknown format 'xml'"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(
    project: Path, args: list[str], message: str
) -> None:
    result = _invoke(*(a.replace("{p}", str(project)) for a in args))
    assert result.exit_code == 2
    assert result.stderr.startswith("pyforge: error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_undecodable_file_is_skipped_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_bytes(b"x = '\xff\xfe'\n")
    result = _invoke("suggest", str(tmp_path), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"suggestions": []}
    assert "pyforge: note: skipped" in result.stderr


def test_the_pyforge_command_runs_them_without_the_kit(project: Path) -> None:
    """``suggest``/``fix`` are local commands: the kit and web stack stay unimported."""
    script = (
        "import atexit, sys\n"
        "heavy = ('forgekit', 'fastapi', 'sqlalchemy')\n"
        "atexit.register(lambda: sys.stderr.write('HEAVY=%s\\n' % sorted(\n"
        "    m for m in sys.modules if m.split('.')[0] in heavy)))\n"
        f"sys.argv = ['pyforge', 'fix', {str(project / 'pkg' / 'mod.py')!r}, '--preview']\n"
        "from pyforge.cli import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env={**os.environ})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "+    return bool(x > 3)" in done.stdout
    assert "HEAVY=[]" in done.stderr
