"""The engine's value types: rules, hits, spans and the check signatures.

They live apart from the registry (which loads analyzers) and from the file context (which
checks read), so that both can import them without importing each other.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeAlias

from pyforge.analysis.findings import Category, Confidence, Finding, Severity

if TYPE_CHECKING:
    from pyforge.analysis.context import FileContext, ProjectContext
    from pyforge.analysis.metrics.model import FunctionMetrics

#: Rule-id prefix for each category; ``CPX101`` is a complexity rule, ``SEC-S602`` a security one.
CATEGORY_PREFIX: Mapping[Category, str] = {
    Category.COMPLEXITY: "CPX",
    Category.TYPES: "TYP",
    Category.SECURITY: "SEC",
    Category.STYLE: "STY",
    Category.BUG_RISK: "BUG",
    Category.PERFORMANCE: "PRF",
    Category.MAINTAINABILITY: "MNT",
}
PREFIX_CATEGORY: Mapping[str, Category] = {v: k for k, v in CATEGORY_PREFIX.items()}
RULE_ID = re.compile(r"^(?P<prefix>[A-Z]{3})(?:\d{3}|-[A-Z]+[0-9]*)$")


class Span(NamedTuple):
    """A 1-based source range; ``end_column`` is exclusive, 0 when unknown."""

    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0


class Hit(NamedTuple):
    """What a check returns for each problem; the engine turns it into a :class:`Finding`."""

    at: ast.AST | Span
    message: str
    fix: str | None = None
    severity: Severity | None = None
    confidence: Confidence | None = None
    properties: Mapping[str, Any] | None = None


class ProjectHit(NamedTuple):
    """A project-level check's hit: like :class:`Hit`, with the file it belongs to."""

    path: str
    at: Span
    message: str
    severity: Severity | None = None
    confidence: Confidence | None = None
    properties: Mapping[str, Any] | None = None


Hits: TypeAlias = Iterable[Hit] | None
NodeCheck: TypeAlias = Callable[["FileContext", Any], Hits]
FunctionCheck: TypeAlias = Callable[["FileContext", "FunctionMetrics"], Hits]
FileCheck: TypeAlias = Callable[["FileContext"], Hits]
ProjectCheck: TypeAlias = Callable[["ProjectContext"], Iterable[ProjectHit] | None]
ToolCheck: TypeAlias = Callable[["ToolContext"], Iterable[ProjectHit] | None]
Collector: TypeAlias = Callable[["FileContext"], Any]
HookKind = Literal["node", "function", "file", "project", "tool"]


@dataclass
class ToolContext:
    """What a ``tool`` check gets: every file of the run, to pass to an external program."""

    #: (absolute path, path relative to the root) of every analysed file.
    files: Sequence[tuple[str, str]]
    root: Path
    options: Mapping[str, Any]
    #: problems running the tool, reported as notes.
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's identity and documentation."""

    id: str
    name: str
    category: Category
    severity: Severity
    description: str
    help: str = ""
    confidence: Confidence = Confidence.HIGH
    analyzer: str = ""
    url: str | None = None
    #: ruff/flake8 codes of the same check; a noqa comment naming one silences this rule too.
    aliases: tuple[str, ...] = ()
    #: False for a rule that runs only when ``select`` names it (its help says why it is off).
    default_enabled: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON form, as ``pyforge rules --format json`` prints it."""
        return {
            "id": self.id,
            "name": self.name,
            "category": self.category.value,
            "severity": self.severity.value,
            "confidence": self.confidence.value,
            "analyzer": self.analyzer,
            "description": self.description,
            "help": self.help,
            **({"url": self.url} if self.url else {}),
            **({"aliases": list(self.aliases)} if self.aliases else {}),
            "default_enabled": self.default_enabled,
        }


#: rule id -> the ruff/flake8 codes it duplicates, filled in as analyzers register their rules;
#: the suppression check reads it, so that a noqa comment for B006 covers BUG101 too.
RULE_ALIASES: dict[str, tuple[str, ...]] = {}
#: ids of the rules that are off unless ``select`` names them (filled in like RULE_ALIASES).
DEFAULT_OFF: set[str] = set()


def make_finding(
    rule: Rule,
    path: str,
    span: Span,
    message: str,
    *,
    severity: Severity | None = None,
    confidence: Confidence | None = None,
    fix: str | None = None,
    scope: str = "",
    properties: Mapping[str, Any] | None = None,
) -> Finding:
    """Build a :class:`Finding` for ``rule`` (fingerprint filled in later, per file)."""
    return Finding(
        rule=rule.id,
        category=rule.category,
        severity=severity or rule.severity,
        confidence=confidence or rule.confidence,
        message=message,
        path=path,
        line=span.line,
        column=span.column,
        end_line=span.end_line or span.line,
        end_column=span.end_column,
        fix=fix,
        scope=scope,
        properties=dict(properties or {}),
    )
