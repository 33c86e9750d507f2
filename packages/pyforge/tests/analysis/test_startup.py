"""``pyforge analyze`` on a plain command line runs without the CLI framework."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pyforge.analysis.command import fast_analyze


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_plain_analyze_imports_neither_typer_nor_the_pool(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(x):\n    return x + 1\n", encoding="utf-8")
    out = tmp_path / "report.json"
    code = (
        "import sys\n"
        "from pyforge.cli import main\n"
        f"sys.argv = ['pyforge', 'analyze', {str(tmp_path / 'm.py')!r}, '--no-cache',"
        f" '-f', 'json', '-o', {str(out)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "heavy = ('typer', 'click', 'multiprocessing', 'concurrent.futures', 'pydantic')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    assert _run(code) == "[]"
    report = json.loads(out.read_text())
    assert [f["path"] for f in report["files"]] == ["m.py"]


def test_fast_path_declines_what_the_full_cli_must_explain(tmp_path: Path) -> None:
    target = str(tmp_path)
    for argv in (["analyze", target, "--help"], ["analyze", target, "--jobs", "0"],
                 ["analyze", target, "--unknown"], ["analyze", target, "-f"],
                 ["analyze", target, "--no-cache", "--no-cache"], ["rules"],
                 ["analyze", target, "-f", "json", "--format", "sarif"]):  # fmt: skip
        assert fast_analyze(argv) is None, argv


def test_fast_path_reports_bad_input_like_the_cli(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    missing = str(tmp_path / "nope.py")
    assert fast_analyze(["analyze", missing, "--no-cache"]) == 2
    assert capsys.readouterr().err == f"pyforge: error: path does not exist: {missing}\n"
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    assert fast_analyze(["analyze", str(tmp_path), "--no-cache", "-f", "xml"]) == 2
    assert "unknown format 'xml'" in capsys.readouterr().err
