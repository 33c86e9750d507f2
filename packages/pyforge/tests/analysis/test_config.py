"""Configuration: discovery, extend, overrides, excludes, gitignore, suppressions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyforge.analysis import ConfigError, analyze_paths, load_config

from .conftest import OFFLINE, analyze_dir

BUGGY = "def f(a=[]):\n    return a == None\n"


def test_pyproject_table_is_found_and_applied(write_tree: Callable) -> None:
    root = write_tree({
        "pyproject.toml": '[tool.pyforge]\ndisable = ["style", "security"]\n'
                          'ignore = ["BUG104", "TYP"]\n[tool.pyforge.severity]\nBUG101 = "critical"\n',
        "src/m.py": BUGGY,
    })  # fmt: skip
    config = load_config(root / "src")
    assert config.source == root / "pyproject.toml"
    report = analyze_paths([root / "src"], config, jobs=1, use_cache=False)
    assert [(f.rule, f.severity.value) for f in report.findings] == [("BUG101", "critical")]


def test_pyforge_toml_and_extend_inherit_a_parent(write_tree: Callable) -> None:
    root = write_tree({
        "pyproject.toml": '[tool.pyforge]\ndisable = ["style", "security"]\nignore = ["BUG101", "TYP"]\n'
                          '[tool.pyforge.thresholds]\ncyclomatic = 3\n',
        "pkg/pyforge.toml": 'extend = "../pyproject.toml"\nignore = ["BUG104"]\n',
        "pkg/m.py": BUGGY + "def g(a, b, c):\n    return a and b and c and a or b\n",
    })  # fmt: skip
    config = load_config(root / "pkg")
    assert config.source == root / "pkg" / "pyforge.toml"
    assert config.settings.thresholds.cyclomatic == 3
    report = analyze_paths([root / "pkg"], config, jobs=1, use_cache=False)
    assert [f.rule for f in report.findings] == ["CPX101"]


def test_per_path_overrides(write_tree: Callable) -> None:
    root = write_tree({"src/m.py": BUGGY, "tests/test_m.py": BUGGY})
    report = analyze_dir(root, {
        **OFFLINE, "ignore": ["TYP"], "overrides": [{"paths": ["tests/**"], "ignore": ["BUG"]}],
    })  # fmt: skip
    assert {f.path for f in report.findings} == {"src/m.py"}


def test_excludes_and_gitignore(write_tree: Callable) -> None:
    root = write_tree({
        ".gitignore": "generated/\n*_pb2.py\n",
        "generated/x.py": BUGGY,
        "api_pb2.py": BUGGY,
        "migrations/0001.py": BUGGY,
        "sub/.gitignore": "local.py\n",
        "sub/local.py": BUGGY,
        "sub/kept.py": BUGGY,
        ".venv/lib.py": BUGGY,
        "main.py": BUGGY,
    })  # fmt: skip
    report = analyze_dir(root, {**OFFLINE, "exclude": ["migrations/"]})
    assert [f.path for f in report.files] == ["main.py", "sub/kept.py"]
    report = analyze_dir(root, {**OFFLINE, "respect_gitignore": False})
    assert "generated/x.py" in {f.path for f in report.files}


def test_inline_suppression(write_tree: Callable) -> None:
    root = write_tree({"m.py": (
        "def f(a=[]):  # pyforge: ignore[BUG101]\n"
        "    x = a == None  # pyforge: ignore\n"
        "    y = a == None  # noqa: BUG104\n"
        "    return a == None or x or y  # pyforge: ignore[CPX101]\n"
    )})  # fmt: skip
    report = analyze_dir(root, {**OFFLINE, "ignore": ["TYP"]})
    assert [(f.rule, f.line) for f in report.findings] == [("BUG104", 4)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool.pyforge]\nbogus = 1\n", "unknown setting"),
        ("[tool.pyforge.thresholds]\ncyclomatic = 'x'\n", "must be a number"),
        ("[tool.pyforge.severity]\nBUG101 = 'huge'\n", "must be one of"),
        ("[tool.pyforge]\nextend = 'nowhere.toml'\n", "missing file"),
        ("[tool.pyforge\n", "invalid TOML"),
    ],
)
def test_invalid_configuration_is_a_clear_error(text: str, message: str, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path, tmp_path / "pyproject.toml")
