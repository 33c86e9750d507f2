"""Report objects and their JSON form.

JSON schema (``schema_version`` "1.0"; additions keep the major version, removals bump it)::

    {
      "schema_version": "1.0",
      "tool": {"name": "pyforge", "version": "..."},
      "root": "/abs/path/analysed",
      "summary": {                       # metrics: production code; test code under "tests"
        "files": 12, "files_analyzed": 11, "files_skipped": 1, "functions": 80, "classes": 9,
        "loc": 3000, "sloc": 2100, "findings": 40,
        "findings_by_severity": {"info": 1, "minor": 30, "major": 8, "critical": 1, "blocker": 0},
        "findings_by_category": {"style": 20, ...},
        "cyclomatic": {"average": 2.9, "max": 31},
        "cognitive": {"average": 2.1, "max": 44},
        "maintainability_index": {"average": 61.2, "min": 8.3},
        "type_coverage": 64.5,
        "ratings": {"reliability": "C", "security": "D", "maintainability": "A",
                    "complexity": "A"},
        "duration_s": 1.23, "cache_hits": 0,
        "tests": {"files": 4, "functions": 30, "classes": 1, "loc": 900, "sloc": 700,
                  "cyclomatic": {...}, "cognitive": {...}},
        "baseline": {"path": "...", "known": 30}      # only with --baseline
      },
      "gate": {"passed": false, "conditions": [{"name": ..., "passed": ..., "detail": ...}]},
      "notes": [{"path": "big.py", "message": "skipped: 12.0 MB is over max_file_size"}],
      "files": [{
        "path": "pkg/mod.py",            # relative to root, '/'-separated
        "status": "ok",                  # ok | error (syntax/decoding) | skipped
        "test": false,                   # test code (config ``tests``)
        "sha256": "...",
        "metrics": {"loc", "lloc", "sloc", "comments", "multi", "blank", "single_comments",
                    "cyclomatic", "maintainability_index", "halstead": {...},
                    "type_coverage", "typing": {...}} | null,
        "functions": [{"name", "qualname", "line", "end_line", "column", "is_method",
                       "is_async", "cyclomatic", "cognitive", "max_nesting", "parameters",
                       "annotated_parameters", "has_return_annotation", "length",
                       "decorated"}],
        "classes": [{"name", "qualname", "line", "end_line", "cyclomatic",
                     "total_cyclomatic", "methods"}],
        "findings": 3
      }],
      "findings": [{"rule", "category", "severity", "confidence", "message", "path",
                    "line", "column", "end_line", "end_column", "scope", "fingerprint",
                    "fix"?, "properties"?}]
    }

Lines and columns are 1-based.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyforge import __version__
from pyforge.analysis.findings import Category, Finding, Severity, severity_counts
from pyforge.analysis.metrics.mi import cc_rank, mi_rank
from pyforge.analysis.metrics.model import ClassMetrics, FileMetrics, FunctionMetrics

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True, slots=True)
class Note:
    """Something the user should know that is not a finding (a skipped file, a tool error)."""

    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"path": self.path, "message": self.message}


@dataclass
class FileReport:
    """Everything about one file: metrics, functions, classes and findings."""

    path: str
    status: str = "ok"
    sha256: str = ""
    #: test code (matched by the ``tests`` setting): summarised apart from production code.
    test: bool = False
    metrics: FileMetrics | None = None
    functions: list[FunctionMetrics] = field(default_factory=list)
    classes: list[ClassMetrics] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    #: line -> suppressed rule ids, from ``# pyforge: ignore[...]`` comments (not in the JSON).
    suppressions: dict[int, list[str]] = field(default_factory=dict)
    #: per-analyzer facts for project-wide checks (not in the JSON report).
    facts: dict[str, Any] = field(default_factory=dict)
    #: True when read from the cache (its facts are then loaded only if needed).
    cached: bool = False
    #: the JSON form this report was read from, reused for output (not compared or shown).
    _source: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    #: (first line, last line, qualified name) of every function and class, built on first use.
    _spans: list[tuple[int, int, str]] | None = field(default=None, repr=False, compare=False)

    def scope_at(self, line: int) -> str:
        """Qualified name of the innermost function or class containing ``line``."""
        spans = self._spans
        if spans is None or len(spans) != len(self.functions) + len(self.classes):
            spans = [(f.line, f.end_line, f.qualname) for f in self.functions]
            spans += [(c.line, c.end_line, c.qualname) for c in self.classes]
            self._spans = spans
        best, best_size = "", -1
        for start, end, qualname in spans:
            if start <= line <= end and (best_size < 0 or end - start < best_size):
                best, best_size = qualname, end - start
        return best

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``files[]``); findings are listed once, at the top level."""
        if self._source is not None:
            # Read from the cache and unchanged since: its stored form is the answer.
            src = self._source
            return {
                "path": src["path"], "status": src["status"], "test": src.get("test", False),
                "sha256": src["sha256"], "metrics": src["metrics"], "functions": src["functions"],
                "classes": src["classes"], "findings": len(self.findings),
            }  # fmt: skip
        return {
            "path": self.path,
            "status": self.status,
            "test": self.test,
            "sha256": self.sha256,
            "metrics": self.metrics.to_dict() if self.metrics else None,
            "functions": [f.to_dict() for f in self.functions],
            "classes": [c.to_dict() for c in self.classes],
            "findings": len(self.findings),
        }

    def to_cache(self) -> dict[str, Any]:
        """Complete JSON form for the cache (findings and notes included; facts are cached
        on the entry's second line, since they are only read when project-wide checks must run
        again)."""
        data = self.to_dict()
        data["findings"] = [f.to_dict() for f in self.findings]
        data["notes"] = [n.message for n in self.notes]
        data["suppressions"] = {str(k): v for k, v in self.suppressions.items()}
        return data

    def to_transport(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """What a worker process sends back: the cache form and the facts, plain data only."""
        return self.to_cache(), self.facts

    @classmethod
    def from_transport(cls, data: tuple[dict[str, Any], dict[str, Any]]) -> FileReport:
        """Inverse of :meth:`to_transport`."""
        report = cls.from_cache(data[0])
        report.facts = data[1]
        report.cached = False
        return report

    @classmethod
    def from_cache(cls, data: dict[str, Any]) -> FileReport:
        """Inverse of :meth:`to_cache`."""
        path = data["path"]
        return cls(
            path=path,
            status=data["status"],
            sha256=data["sha256"],
            test=bool(data.get("test", False)),
            metrics=FileMetrics.from_dict(data["metrics"]) if data["metrics"] else None,
            functions=[FunctionMetrics.from_dict(f) for f in data["functions"]],
            classes=[ClassMetrics.from_dict(c) for c in data["classes"]],
            findings=[Finding.from_dict(f) for f in data["findings"]],
            notes=[Note(path, m) for m in data.get("notes", [])],
            suppressions={int(k): v for k, v in data.get("suppressions", {}).items()},
            facts=data.get("facts", {}),
            cached=True,
            _source=data,
        )


def _worst_rating(findings: Iterable[Finding], category: Category) -> str:
    """SonarQube-style rating: A none, B minor, C major, D critical, E blocker (info ignored)."""
    worst = -1
    for f in findings:
        if f.category is category and f.severity is not Severity.INFO:
            worst = max(worst, f.severity.rank)
    return "ABCDE"[max(0, worst)] if worst >= 1 else "A"


def _status_summary(files: Sequence[FileReport]) -> dict[str, int]:
    """How many files were analysed, skipped, or failed to parse."""
    statuses = Counter(f.status for f in files)
    return {
        "files_analyzed": statuses["ok"],
        "files_skipped": statuses["skipped"],
        "files_with_errors": statuses["error"],
    }


def _code_summary(files: Sequence[FileReport]) -> dict[str, Any]:
    """Size and complexity figures of a set of files (production or test code)."""
    fns = [fn for f in files for fn in f.functions]
    metrics = [f.metrics for f in files if f.metrics is not None]
    cyclomatic = [f.cyclomatic for f in fns]
    cognitive = [f.cognitive for f in fns]
    return {
        "functions": len(fns),
        "classes": sum(len(f.classes) for f in files),
        "loc": sum(m.raw.loc for m in metrics),
        "sloc": sum(m.raw.sloc for m in metrics),
        "cyclomatic": {"average": _average(cyclomatic), "max": max(cyclomatic, default=0)},
        "cognitive": {"average": _average(cognitive), "max": max(cognitive, default=0)},
    }


def _typing_summary(files: Sequence[FileReport]) -> dict[str, Any]:
    """Maintainability index and type coverage of a set of files."""
    metrics = [f.metrics for f in files if f.metrics is not None]
    mis = [m.maintainability_index for m in metrics]
    slots = sum(m.parameters + m.returns for m in metrics)
    typed = sum(m.annotated_parameters + m.annotated_returns for m in metrics)
    return {
        "maintainability_index": {
            "average": _average(mis, empty=100.0),
            "min": round(min(mis), 2) if mis else 100.0,
        },
        "type_coverage": round(100.0 * typed / slots, 2) if slots else 100.0,
    }


def _average(values: Sequence[float], *, empty: float = 0.0) -> float:
    return round(sum(values) / len(values), 2) if values else empty


@dataclass
class GateCondition:
    """One evaluated quality-gate condition."""

    name: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass
class GateResult:
    """The quality gate's verdict."""

    conditions: list[GateCondition]

    @property
    def passed(self) -> bool:
        """True when every condition holds."""
        return all(c.passed for c in self.conditions)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"passed": self.passed, "conditions": [c.to_dict() for c in self.conditions]}


@dataclass
class RunInputs:
    """What a run's result depends on in the file system (for the run cache; not in the JSON).

    ``files`` holds (absolute path, size, mtime_ns, sha256) for every analysed file, stat
    taken before the read (sha256 is "" for a file skipped for its size); ``watched`` other
    files whose content matters or whose appearance would (configuration, ``.gitignore``);
    ``dirs`` the directories walked. ``complete`` is False when the result depends on more
    than these (an unreadable file, a link to a file listed already, ``--changed-since``).
    """

    files: list[tuple[str, int, int, str]] = field(default_factory=list)
    watched: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    complete: bool = True


@dataclass
class AnalysisReport:
    """The result of one analysis run."""

    root: str
    files: list[FileReport]
    findings: list[Finding]
    notes: list[Note] = field(default_factory=list)
    duration_s: float = 0.0
    cache_hits: int = 0
    baseline_path: str | None = None
    baseline_known: int = 0
    gate: GateResult | None = None
    inputs: RunInputs | None = field(default=None, repr=False, compare=False)

    @property
    def functions(self) -> list[FunctionMetrics]:
        """Every function of every file."""
        return [fn for f in self.files for fn in f.functions]

    @property
    def production_functions(self) -> list[FunctionMetrics]:
        """Every function of every file that is not test code."""
        return [fn for f in self.files if not f.test for fn in f.functions]

    def summary(self) -> dict[str, Any]:
        """The ``summary`` object of the JSON schema (metrics of production code only)."""
        production = [f for f in self.files if not f.test]
        tests = [f for f in self.files if f.test]
        code = _code_summary(production)
        typing = _typing_summary(production)
        out: dict[str, Any] = {
            "files": len(self.files),
            **_status_summary(self.files),
            **code,
            "findings": len(self.findings),
            "findings_by_severity": severity_counts(self.findings),
            "findings_by_category": dict(
                sorted(Counter(f.category.value for f in self.findings).items())
            ),
            **typing,
            "ratings": {
                "reliability": _worst_rating(self.findings, Category.BUG_RISK),
                "security": _worst_rating(self.findings, Category.SECURITY),
                "maintainability": mi_rank(typing["maintainability_index"]["average"]),
                "complexity": cc_rank(code["cyclomatic"]["average"]),
            },
            "duration_s": round(self.duration_s, 3),
            "cache_hits": self.cache_hits,
            "tests": {"files": len(tests), **_code_summary(tests)},
        }
        if self.baseline_path is not None:
            out["baseline"] = {"path": self.baseline_path, "known": self.baseline_known}
        return out

    def to_dict(self) -> dict[str, Any]:
        """The whole report in the documented JSON schema."""
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "pyforge", "version": __version__},
            "root": self.root,
            "summary": self.summary(),
            "gate": self.gate.to_dict() if self.gate else None,
            "notes": [n.to_dict() for n in self.notes],
            "files": [f.to_dict() for f in self.files],
            "findings": [f.to_dict() for f in self.findings],
        }

    def worst_functions(self, n: int = 10) -> Sequence[tuple[str, FunctionMetrics]]:
        """The ``n`` most complex functions (by cyclomatic, then cognitive), with their file."""
        pairs = [(f.path, fn) for f in self.files for fn in f.functions]
        pairs.sort(key=lambda p: (-p[1].cyclomatic, -p[1].cognitive, p[0], p[1].line))
        return pairs[:n]
