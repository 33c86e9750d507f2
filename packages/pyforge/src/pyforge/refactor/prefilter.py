"""A cheap ast scan for the shapes the codemods look for.

libcst's parse and metadata cost about 50 ms per 1,000 lines; most files hold none of the
patterns, and the scan (on the ast the caller parsed anyway) lets them skip libcst entirely.
It may say yes where the codemods then find nothing, never the reverse.
"""

from __future__ import annotations

import ast
import itertools


def _exits(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return | ast.Raise)


def _nested(body: list[ast.stmt]) -> bool:
    compound = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)
    return any(isinstance(s, compound) for s in body)


def _bool_return(body: list[ast.stmt]) -> bool:
    return (
        len(body) == 1
        and isinstance(body[0], ast.Return)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, bool)
    )


def _if_candidate(node: ast.If) -> bool:
    if _bool_return(node.body):
        return True
    orelse = node.orelse
    if not orelse or (len(orelse) == 1 and isinstance(orelse[0], ast.If)):
        return False  # no else, or an elif
    return (_exits(node.body) and _nested(orelse)) or (_exits(orelse) and _nested(node.body))


def _range_len(node: ast.For) -> bool:
    it = node.iter
    return (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Name)
        and it.func.id == "range"
        and len(it.args) == 1
        and isinstance(it.args[0], ast.Call)
        and isinstance(it.args[0].func, ast.Name)
        and it.args[0].func.id == "len"
    )


def _isinstance_calls(node: ast.BoolOp) -> int:
    return sum(
        isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "isinstance"
        for v in node.values
    )


def _empty_list_then_loop(body: list[ast.stmt]) -> bool:
    return any(
        isinstance(first, ast.Assign)
        and isinstance(first.value, ast.List)
        and not first.value.elts
        and isinstance(second, ast.For)
        for first, second in itertools.pairwise(body)
    )


def _candidate(node: ast.AST) -> bool:
    if isinstance(node, ast.If) and _if_candidate(node):
        return True
    if isinstance(node, ast.For) and _range_len(node):
        return True
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        return _isinstance_calls(node) >= 2
    blocks = (getattr(node, field, None) for field in ("body", "orelse", "finalbody"))
    return any(isinstance(b, list) and _empty_list_then_loop(b) for b in blocks)


def may_match(tree: ast.AST) -> bool:
    """Whether the codemods could find anything in ``tree``."""
    return any(_candidate(node) for node in ast.walk(tree))
