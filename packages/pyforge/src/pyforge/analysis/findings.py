"""The :class:`Finding` record, its enumerations and its stable fingerprint."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a finding matters, from least to most."""

    INFO = "info"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"
    BLOCKER = "blocker"

    @property
    def rank(self) -> int:
        """Position in the scale (info=0 ... blocker=4), for comparisons and sorting."""
        return _SEVERITY_ORDER[self]


_SEVERITY_ORDER = {s: i for i, s in enumerate(Severity)}


class Category(StrEnum):
    """What kind of problem a rule detects."""

    COMPLEXITY = "complexity"
    TYPES = "types"
    SECURITY = "security"
    STYLE = "style"
    BUG_RISK = "bug-risk"
    PERFORMANCE = "performance"
    MAINTAINABILITY = "maintainability"


class Confidence(StrEnum):
    """How sure the rule is that the finding is a real problem."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in one place.

    Lines and columns are 1-based (as in editors, ruff and SARIF); ``end_column`` is exclusive.
    ``fingerprint`` identifies the finding across runs independently of its line number.
    """

    rule: str
    category: Category
    severity: Severity
    message: str
    path: str
    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0
    confidence: Confidence = Confidence.HIGH
    fix: str | None = None
    scope: str = ""
    fingerprint: str = ""
    properties: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Serialise to the JSON schema's ``findings[]`` item."""
        # ``_value_`` rather than ``.value``: Enum's property costs a descriptor call, and this
        # runs for every finding of every report and cache entry.
        out: dict[str, Any] = {
            "rule": self.rule,
            "category": self.category._value_,
            "severity": self.severity._value_,
            "confidence": self.confidence._value_,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line or self.line,
            "end_column": self.end_column,
            "scope": self.scope,
            "fingerprint": self.fingerprint,
        }
        if self.fix is not None:
            out["fix"] = self.fix
        if self.properties:
            out["properties"] = dict(self.properties)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Inverse of :meth:`to_dict` (used by the cache and baselines)."""
        # Dictionary lookups rather than Enum(value): this runs for every cached finding.
        get = data.get
        return cls(
            data["rule"],
            _CATEGORIES[data["category"]],
            _SEVERITIES[data["severity"]],
            data["message"],
            data["path"],
            data["line"],
            get("column", 1),
            get("end_line", data["line"]),
            get("end_column", 0),
            _CONFIDENCES[get("confidence", "high")],
            get("fix"),
            get("scope", ""),
            get("fingerprint", ""),
            get("properties") or _NO_PROPERTIES,
        )

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order by location, then rule: the order every report uses."""
        return (self.path, self.line, self.column, self.rule)


_NO_PROPERTIES: Mapping[str, Any] = {}
_CATEGORIES = {c.value: c for c in Category}
_SEVERITIES = {s.value: s for s in Severity}
_CONFIDENCES = {c.value: c for c in Confidence}
_WS = re.compile(r"\s+")


def normalise_line(text: str) -> str:
    """Collapse whitespace so that re-indenting or re-spacing keeps a fingerprint."""
    return _WS.sub(" ", text).strip()


def fingerprint_findings(
    findings: Iterable[Finding],
    lines: Sequence[str],
    scope_of: Callable[[int], str] | None = None,
) -> list[Finding]:
    """Fill in ``fingerprint`` (and ``scope`` where missing) for the findings of one file.

    The hash covers the rule id, the relative path, the whitespace-normalised text of the first
    flagged line, the enclosing qualified name and the occurrence index among findings sharing
    all of these, so it survives unrelated lines being added above and whitespace changes.
    """
    counts: dict[tuple[str, str, str, str], int] = {}
    out: list[Finding] = []
    for f in sorted(findings, key=Finding.sort_key):
        text = normalise_line(lines[f.line - 1]) if 0 < f.line <= len(lines) else ""
        scope = f.scope or (scope_of(f.line) if scope_of else "")
        key = (f.rule, f.path, text, scope)
        index = counts.get(key, 0)
        counts[key] = index + 1
        digest = hashlib.sha256("\x1f".join((*key, str(index))).encode("utf-8")).hexdigest()
        # Positional construction: dataclasses.replace costs twice as much, per finding.
        out.append(Finding(f.rule, f.category, f.severity, f.message, f.path, f.line, f.column,
                           f.end_line, f.end_column, f.confidence, f.fix, scope, digest[:32],
                           f.properties))  # fmt: skip
    return out


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Number of findings per severity, every severity present (zero included)."""
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        counts[f.severity.value] += 1
    return counts
