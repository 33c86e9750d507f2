"""Metric records for functions, classes and files (the JSON schema's ``metrics`` objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyforge.analysis.metrics.halstead import HalsteadMetrics
from pyforge.analysis.metrics.raw import RawMetrics


@dataclass(slots=True)
class FunctionMetrics:
    """Metrics of one function or method (lambdas are part of their enclosing function)."""

    name: str
    qualname: str
    line: int
    end_line: int
    column: int
    is_method: bool = False
    is_async: bool = False
    #: radon's cyclomatic complexity (decision points + 1, closures excluded).
    cyclomatic: int = 1
    #: SonarSource's cognitive complexity (nested functions included, as the whitepaper says).
    cognitive: int = 0
    #: increments that carried a nesting component, to re-base them in an enclosing function.
    cognitive_nested_increments: int = 0
    max_nesting: int = 0
    parameters: int = 0
    annotated_parameters: int = 0
    has_return_annotation: bool = False
    decorated: bool = False

    @property
    def length(self) -> int:
        """Number of physical lines from ``def`` to the last line of the body."""
        return self.end_line - self.line + 1

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``files[].functions[]``)."""
        return {
            "name": self.name,
            "qualname": self.qualname,
            "line": self.line,
            "end_line": self.end_line,
            "column": self.column,
            "is_method": self.is_method,
            "is_async": self.is_async,
            "cyclomatic": self.cyclomatic,
            "cognitive": self.cognitive,
            "max_nesting": self.max_nesting,
            "parameters": self.parameters,
            "annotated_parameters": self.annotated_parameters,
            "has_return_annotation": self.has_return_annotation,
            "length": self.length,
            "decorated": self.decorated,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FunctionMetrics:
        """Inverse of :meth:`to_dict`."""
        # Positional and explicit: this runs for every cached function on a warm run.
        return cls(
            d["name"], d["qualname"], d["line"], d["end_line"], d["column"], d["is_method"],
            d["is_async"], d["cyclomatic"], d["cognitive"], 0, d["max_nesting"],
            d["parameters"], d["annotated_parameters"], d["has_return_annotation"],
            d["decorated"],
        )  # fmt: skip


@dataclass(slots=True)
class ClassMetrics:
    """Metrics of one class; ``cyclomatic`` is radon's class figure (average over methods)."""

    name: str
    qualname: str
    line: int
    end_line: int
    cyclomatic: int = 1
    #: radon's ``real_complexity``: 1 + class-body decision points + sum of method complexities.
    total_cyclomatic: int = 1
    methods: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``files[].classes[]``)."""
        return {
            "name": self.name,
            "qualname": self.qualname,
            "line": self.line,
            "end_line": self.end_line,
            "cyclomatic": self.cyclomatic,
            "total_cyclomatic": self.total_cyclomatic,
            "methods": self.methods,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClassMetrics:
        """Inverse of :meth:`to_dict`."""
        return cls(**d)


@dataclass(slots=True)
class FileMetrics:
    """Metrics of one file."""

    raw: RawMetrics = field(default_factory=RawMetrics)
    halstead: HalsteadMetrics = field(default_factory=HalsteadMetrics)
    #: radon's ``total_complexity`` of the module (the input to the maintainability index).
    cyclomatic: int = 1
    maintainability_index: float = 100.0
    annotated_parameters: int = 0
    parameters: int = 0
    annotated_returns: int = 0
    returns: int = 0

    @property
    def type_coverage(self) -> float:
        """Percentage of annotated parameters and returns (100 when there is nothing to type)."""
        total = self.parameters + self.returns
        if total == 0:
            return 100.0
        return 100.0 * (self.annotated_parameters + self.annotated_returns) / total

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``files[].metrics``)."""
        raw = self.raw
        return {
            "loc": raw.loc,
            "lloc": raw.lloc,
            "sloc": raw.sloc,
            "comments": raw.comments,
            "multi": raw.multi,
            "blank": raw.blank,
            "single_comments": raw.single_comments,
            "cyclomatic": self.cyclomatic,
            "maintainability_index": round(self.maintainability_index, 2),
            "halstead": self.halstead.to_dict(),
            "type_coverage": round(self.type_coverage, 2),
            "typing": {
                "parameters": self.parameters,
                "annotated_parameters": self.annotated_parameters,
                "returns": self.returns,
                "annotated_returns": self.annotated_returns,
            },
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FileMetrics:
        """Inverse of :meth:`to_dict` (Halstead keeps the rounded figures)."""
        h = d.get("halstead", {})
        t = d.get("typing", {})
        return cls(
            raw=RawMetrics(
                loc=d["loc"],
                lloc=d["lloc"],
                sloc=d["sloc"],
                comments=d["comments"],
                multi=d["multi"],
                blank=d["blank"],
                single_comments=d["single_comments"],
            ),
            halstead=HalsteadMetrics(
                h1=h.get("h1", 0),
                h2=h.get("h2", 0),
                n1=h.get("N1", 0),
                n2=h.get("N2", 0),
                vocabulary=h.get("vocabulary", 0),
                length=h.get("length", 0),
                volume=h.get("volume", 0.0),
                difficulty=h.get("difficulty", 0.0),
                effort=h.get("effort", 0.0),
                bugs=h.get("bugs", 0.0),
            ),
            cyclomatic=d["cyclomatic"],
            maintainability_index=d["maintainability_index"],
            annotated_parameters=t.get("annotated_parameters", 0),
            parameters=t.get("parameters", 0),
            annotated_returns=t.get("annotated_returns", 0),
            returns=t.get("returns", 0),
        )
