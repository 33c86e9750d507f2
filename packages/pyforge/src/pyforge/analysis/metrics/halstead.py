"""Halstead metrics counted the way radon's ``HalsteadVisitor`` counts them.

Operators are the operator node types of ``BinOp``, ``UnaryOp``, ``BoolOp``, ``AugAssign`` and
``Compare``; operands are their direct operands, identified by name (``Name.id``,
``Attribute.attr``, ``Constant.value``) within the innermost enclosing function, or by node
identity for any other expression.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class HalsteadMetrics:
    """The Halstead report of radon's ``h_visit`` (``total``)."""

    h1: int = 0
    h2: int = 0
    n1: int = 0
    n2: int = 0
    vocabulary: int = 0
    length: int = 0
    calculated_length: float = 0.0
    volume: float = 0.0
    difficulty: float = 0.0
    effort: float = 0.0
    time: float = 0.0
    bugs: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form, floats rounded for readability."""
        return {
            "h1": self.h1,
            "h2": self.h2,
            "N1": self.n1,
            "N2": self.n2,
            "vocabulary": self.vocabulary,
            "length": self.length,
            "volume": round(self.volume, 3),
            "difficulty": round(self.difficulty, 3),
            "effort": round(self.effort, 3),
            "bugs": round(self.bugs, 4),
        }


class HalsteadCounter:
    """Accumulates operators and operands as the walker reaches the relevant nodes."""

    __slots__ = ("operands", "operands_seen", "operators", "operators_seen")

    def __init__(self) -> None:
        self.operators = 0
        self.operands = 0
        self.operators_seen: set[str] = set()
        self.operands_seen: set[tuple[str | None, object]] = set()

    def _operand(self, context: str | None, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            key: object = node.id
        elif isinstance(node, ast.Attribute):
            key = node.attr
        elif isinstance(node, ast.Constant):
            key = node.value
        else:
            key = ("node", id(node))
        self.operands_seen.add((context, key))

    def count(self, node: ast.AST, context: str | None) -> None:
        """Count ``node`` if it is one of Halstead's operator nodes."""
        if isinstance(node, ast.BinOp):
            self.operators += 1
            self.operands += 2
            self.operators_seen.add(type(node.op).__name__)
            self._operand(context, node.left)
            self._operand(context, node.right)
        elif isinstance(node, ast.Compare):
            self.operators += len(node.ops)
            self.operands += len(node.comparators) + 1
            self.operators_seen.update(type(op).__name__ for op in node.ops)
            for operand in node.comparators:
                self._operand(context, operand)
            self._operand(context, node.left)
        elif isinstance(node, ast.BoolOp):
            self.operators += 1
            self.operands += len(node.values)
            self.operators_seen.add(type(node.op).__name__)
            for operand in node.values:
                self._operand(context, operand)
        elif isinstance(node, ast.UnaryOp):
            self.operators += 1
            self.operands += 1
            self.operators_seen.add(type(node.op).__name__)
            self._operand(context, node.operand)
        elif isinstance(node, ast.AugAssign):
            self.operators += 1
            self.operands += 2
            self.operators_seen.add(type(node.op).__name__)
            self._operand(context, node.target)
            self._operand(context, node.value)

    def report(self) -> HalsteadMetrics:
        """Derive the Halstead measures from the counts (radon's formulas)."""
        h1, h2 = len(self.operators_seen), len(self.operands_seen)
        n1, n2 = self.operators, self.operands
        h, n = h1 + h2, n1 + n2
        calculated = h1 * math.log2(h1) + h2 * math.log2(h2) if h1 and h2 else 0.0
        volume = n * math.log2(h) if h else 0.0
        difficulty = (h1 * n2) / (2 * h2) if h2 else 0.0
        effort = difficulty * volume
        return HalsteadMetrics(
            h1,
            h2,
            n1,
            n2,
            h,
            n,
            calculated,
            volume,
            difficulty,
            effort,
            effort / 18.0,
            volume / 3000.0,
        )
