"""PyForge's static analysis engine.

Library API (what the CLI and the service's workers call)::

    from pyforge.analysis import analyze_paths, analyze_source, load_config

    report = analyze_paths(["src"], jobs=4, progress=lambda done, total: ...)
    report.to_dict()          # the documented JSON schema (see ``report.py``)
    file_report = analyze_source("def f(x=[]): ...", "snippet.py")

Analysed code is parsed, never imported or executed. This package imports neither the web
stack nor the platform kit.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyforge.analysis.baseline import BaselineError
    from pyforge.analysis.config import Config, ConfigError, load_config
    from pyforge.analysis.discovery import InputError
    from pyforge.analysis.findings import Category, Confidence, Finding, Severity
    from pyforge.analysis.registry import Analyzer, get_registry
    from pyforge.analysis.report import SCHEMA_VERSION, AnalysisReport, FileReport, Note
    from pyforge.analysis.rules import Hit, ProjectHit, Rule, Span
    from pyforge.analysis.runner import ProgressCallback, analyze_paths

# The public names are loaded on first use (PEP 562), so that ``pyforge analyze`` can answer
# from its run cache without importing the engine.
_LAZY = {
    "BaselineError": "baseline",
    "Config": "config", "ConfigError": "config", "load_config": "config",
    "InputError": "discovery",
    "Category": "findings", "Confidence": "findings", "Finding": "findings",
    "Severity": "findings",
    "Analyzer": "registry", "get_registry": "registry",
    "Hit": "rules", "ProjectHit": "rules", "Rule": "rules", "Span": "rules",
    "SCHEMA_VERSION": "report", "AnalysisReport": "report", "FileReport": "report",
    "Note": "report",
    "ProgressCallback": "runner", "analyze_paths": "runner",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def analyze_source(
    code: str, filename: str = "snippet.py", config: Config | None = None
) -> FileReport:
    """Analyse one piece of source code as if it were the file ``filename``.

    Every enabled analyzer runs, ruff-based ones included (on a private temporary copy);
    nothing is cached. The returned report's ``findings`` include project-level ones (such as
    duplicated blocks within the snippet).
    """
    import tempfile
    from pathlib import Path

    from pyforge.analysis.config import Config
    from pyforge.analysis.report import FileReport
    from pyforge.analysis.runner import analyze_paths

    rel = Path(filename).as_posix().lstrip("/") or "snippet.py"
    with tempfile.TemporaryDirectory(prefix="pyforge-") as tmp:
        root = Path(tmp)
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code, encoding="utf-8")
        if config is None:
            cfg = Config(root=root)
        else:
            cfg = Config(**{**config.__dict__, "root": root, "_per_path": {}})
        report = analyze_paths([target], cfg, jobs=1, use_cache=False)
    file_report = report.files[0] if report.files else FileReport(rel, status="skipped")
    file_report.findings = [f for f in report.findings if f.path == file_report.path]
    file_report.notes = [*file_report.notes, *(n for n in report.notes if not n.path)]
    return file_report


__all__ = [
    "SCHEMA_VERSION",
    "AnalysisReport",
    "Analyzer",
    "BaselineError",
    "Category",
    "Confidence",
    "Config",
    "ConfigError",
    "FileReport",
    "Finding",
    "Hit",
    "InputError",
    "Note",
    "ProgressCallback",
    "ProjectHit",
    "Rule",
    "Severity",
    "Span",
    "analyze_paths",
    "analyze_source",
    "get_registry",
    "load_config",
]
