"""The light entry-point reader agrees with importlib.metadata, and defers to it when unsure."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points as metadata_entry_points
from importlib.metadata import version as metadata_version
from pathlib import Path

import pytest

from pyforge.analysis import plugins
from pyforge.analysis.registry import ENTRY_POINT_GROUP


def test_entry_points_equal_importlib_metadata() -> None:
    mine = sorted((ep.name, ep.value) for ep in plugins.entry_points(ENTRY_POINT_GROUP))
    theirs = sorted((ep.name, ep.value) for ep in metadata_entry_points(group=ENTRY_POINT_GROUP))
    assert mine == theirs
    assert ("complexity", "pyforge.analysis.analyzers.complexity:ANALYZER") in mine
    loaded = {ep.name: ep.load() for ep in plugins.entry_points(ENTRY_POINT_GROUP)}
    assert loaded["complexity"].id == "complexity"


def test_versions_equal_importlib_metadata() -> None:
    assert plugins.version("ruff") == metadata_version("ruff")
    assert plugins.version("no-such-distribution-anywhere") is None


def test_a_new_distribution_on_sys_path_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = tmp_path / "acme_lint-1.2.3.dist-info"
    meta.mkdir()
    (meta / "entry_points.txt").write_text(
        "[console_scripts]\nacme = acme:main\n\n[pyforge.analyzers]\nacme = acme_lint.x:ANALYZER\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins._distributions.cache_clear()
    try:
        found = [(ep.name, ep.value) for ep in plugins.entry_points(ENTRY_POINT_GROUP)]
        assert ("acme", "acme_lint.x:ANALYZER") in found
        assert plugins.version("Acme.Lint") == "1.2.3"
    finally:
        monkeypatch.undo()
        plugins._distributions.cache_clear()


def test_a_zip_on_sys_path_defers_to_importlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip archive
    monkeypatch.syspath_prepend(str(archive))
    plugins._distributions.cache_clear()
    try:
        assert plugins._distributions() is None
        names = {ep.name for ep in plugins.entry_points(ENTRY_POINT_GROUP)}
        assert "complexity" in names
    finally:
        monkeypatch.undo()
        plugins._distributions.cache_clear()


def test_analyze_does_not_import_importlib_metadata(tmp_path: Path) -> None:
    (tmp_path / "small.py").write_text("def f(x: int) -> int:\n    return x\n", encoding="utf-8")
    code = (
        "import sys\n"
        "from pyforge.analysis.command import fast_analyze\n"
        "fast_analyze(['analyze', 'small.py', '--no-cache', '--format', 'json'])\n"
        "sys.stderr.write(str('importlib.metadata' in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert proc.stderr.strip().endswith("False"), proc.stderr
