"""What checks see: the file being analysed (:class:`FileContext`) and the whole project."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyforge.analysis.config import RuleSettings, Thresholds
from pyforge.analysis.findings import Finding
from pyforge.analysis.metrics.model import ClassMetrics, FileMetrics, FunctionMetrics
from pyforge.analysis.metrics.raw import TokenScan
from pyforge.analysis.rules import Hit, Rule, Span, make_finding


def span_of(node: ast.AST) -> Span:
    """The 1-based span of an AST node."""
    line = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0) + 1
    end_line = getattr(node, "end_lineno", None) or line
    end_col = getattr(node, "end_col_offset", None)
    return Span(line, col, end_line, (end_col + 1) if end_col is not None else 0)


@dataclass
class FileContext:
    """One file under analysis. Checks read it; the walker keeps its position fields current."""

    path: str
    text: str
    settings: RuleSettings
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    #: ancestors of the node being checked, innermost last.
    parents: list[ast.AST] = field(default_factory=list)
    #: qualified name of the innermost enclosing function or class ("" at module level).
    scope: str = ""
    #: the innermost enclosing function's metrics (being computed), if any.
    function: FunctionMetrics | None = None
    #: number of ``for``/``while`` loops around the node within the innermost function.
    loop_depth: int = 0
    tree: ast.Module | None = None
    scan: TokenScan | None = None
    metrics: FileMetrics = field(default_factory=FileMetrics)
    functions: list[FunctionMetrics] = field(default_factory=list)
    classes: list[ClassMetrics] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def thresholds(self) -> Thresholds:
        """The thresholds in force for this file."""
        return self.settings.thresholds

    def add(self, rule: Rule, hit: Hit, scope: str | None = None) -> None:
        """Record a hit of ``rule`` as a finding, with any configured severity override."""
        at = hit.at
        span = at if isinstance(at, Span) else span_of(at)
        self.findings.append(
            make_finding(
                rule,
                self.path,
                span,
                hit.message,
                severity=self.settings.severity_for(rule.id) or hit.severity,
                confidence=hit.confidence,
                fix=hit.fix,
                scope=self.scope if scope is None else scope,
                properties=hit.properties,
            )
        )

    def add_all(self, rule: Rule, hits: Iterable[Hit] | None, scope: str | None = None) -> None:
        """Record every hit a check returned."""
        if hits:
            for hit in hits:
                self.add(rule, hit, scope)

    def segment(self, node: ast.AST) -> str:
        """The source text of a node (first line only for multi-line nodes)."""
        line = getattr(node, "lineno", 0)
        if not 0 < line <= len(self.lines):
            return ""
        text = self.lines[line - 1]
        start = getattr(node, "col_offset", 0)
        end = getattr(node, "end_col_offset", None)
        if getattr(node, "end_lineno", line) != line or end is None:
            return text[start:].rstrip()
        # Offsets are in UTF-8 bytes; slicing the encoded line keeps non-ASCII code right.
        return text.encode("utf-8")[start:end].decode("utf-8", "replace")


@dataclass
class ProjectFile:
    """What a project check knows about one file: its path and its collected facts."""

    path: str
    facts: Mapping[str, Any]
    functions: Sequence[FunctionMetrics] = ()


@dataclass
class ProjectContext:
    """Every analysed file, for checks that look across files (duplicates, unused code)."""

    files: list[ProjectFile]
    settings: RuleSettings
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def facts_of(self, analyzer_id: str) -> Iterable[tuple[str, Any]]:
        """(path, facts) for every file where ``analyzer_id`` collected something."""
        for f in self.files:
            value = f.facts.get(analyzer_id)
            if value is not None:
                yield f.path, value
