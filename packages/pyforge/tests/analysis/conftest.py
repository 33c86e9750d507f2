"""Shared helpers for the analysis tests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pyforge.analysis import AnalysisReport, analyze_paths
from pyforge.analysis.config import config_from_table
from pyforge.analysis.engine import analyze_text, build_plan
from pyforge.analysis.registry import get_registry
from pyforge.analysis.report import FileReport

EXAMPLES = Path(__file__).parent / "fixtures"
_DIRECTIVE = re.compile(r"#\s*pyforge-test:\s*(\{.*\})")
_EXPECT = re.compile(r"#\s*expect:\s*([A-Z]{3}[\w-]*)")
#: The analyzers that need no subprocess: fast enough for per-rule tests.
OFFLINE = {"disable": ["style", "security", "mypy"]}


def example_config(text: str) -> dict[str, Any]:
    """The config table an example declares in its first lines (``# pyforge-test: {...}``)."""
    for line in text.splitlines()[:3]:
        m = _DIRECTIVE.search(line)
        if m:
            return dict(json.loads(m.group(1)))
    return {}


def expected_lines(text: str, rule: str) -> list[int]:
    """Lines marked ``# expect: RULE``."""
    return [
        i
        for i, line in enumerate(text.splitlines(), 1)
        for m in _EXPECT.finditer(line)
        if m.group(1) == rule
    ]


def analyze_dir(root: Path, table: dict[str, Any] | None = None, **kwargs: Any) -> AnalysisReport:
    """Analyse a directory with a config table (no discovery of config files above it)."""
    config = config_from_table(table or {}, root=root)
    kwargs.setdefault("jobs", 1)
    kwargs.setdefault("use_cache", False)
    return analyze_paths([root], config, **kwargs)


def analyze_code(code: str, table: dict[str, Any] | None = None, path: str = "m.py") -> FileReport:
    """Analyse source text in-process with the built-in single-pass analyzers only."""
    config = config_from_table({**OFFLINE, **(table or {})}, root=Path("."))
    settings = config.settings
    plan = build_plan(get_registry().analyzers.values(), settings)
    return analyze_text(code, path, settings, plan)


@pytest.fixture
def write_tree(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """Create files under a temporary root: ``{"pkg/a.py": "code"}``."""

    def write(files: dict[str, str | bytes]) -> Path:
        for rel, content in files.items():
            target = tmp_path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        return tmp_path

    return write
