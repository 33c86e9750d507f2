"""Performance: static hints about code that does more work than it needs to."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator

from pyforge.analysis.context import FileContext
from pyforge.analysis.findings import Category, Confidence, Severity
from pyforge.analysis.registry import Analyzer, Hit, Span

ANALYZER = Analyzer(
    id="performance",
    version="2",
    description="String += in loops, list membership in loops, repeated lookups in loops, "
    "len() comparisons, range(len()) loops.",
)


def _is_str_expr(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


@ANALYZER.rule("PRF101", "string-concat-in-loop", Category.PERFORMANCE, Severity.MINOR,
               nodes=(ast.AugAssign,), confidence=Confidence.MEDIUM, enabled=False)  # fmt: skip
def string_concat_in_loop(ctx: FileContext, node: ast.AugAssign) -> list[Hit] | None:
    """String built with ``+=`` inside a loop.

    Strings are immutable: each ``s += piece`` may copy everything accumulated so far, which
    makes building a string in a loop quadratic in its length.

    Off by default (select ``PRF101`` to run it): CPython extends a local string in place
    when nothing else refers to it, so ``s += piece`` is usually linear, and the loops it finds
    in real code are short (0 of 14 sampled findings were worth changing; see
    ``docs/rules-precision.md``).

    How to fix: append the pieces to a list and ``"".join(parts)`` once after the loop, or
    write to an ``io.StringIO``.
    """
    if (
        ctx.loop_depth
        and isinstance(node.op, ast.Add)
        and isinstance(node.target, ast.Name)
        and (_is_str_expr(node.value) or (
            isinstance(node.value, ast.BinOp) and (
                _is_str_expr(node.value.left) or _is_str_expr(node.value.right))))
    ):  # fmt: skip
        return [
            Hit(
                node,
                f"String '{node.target.id}' is built with += in a loop (quadratic); collect "
                "the pieces in a list and join them once.",
            )
        ]
    return None


@ANALYZER.rule("PRF102", "list-membership-in-loop", Category.PERFORMANCE, Severity.MINOR,
               nodes=(ast.Compare,), enabled=False)  # fmt: skip
def list_membership_in_loop(ctx: FileContext, node: ast.Compare) -> Iterator[Hit] | None:
    """Membership test against a list built inline, inside a loop.

    ``x in [a, b, c]`` scans the list and, inside a loop, rebuilds it on every iteration.
    A set literal of constants is built once by the compiler and tested in constant time.

    Off by default (select ``PRF102`` to run it): CPython compiles ``x in [constants]`` to a
    test against a constant tuple, so the list is not rebuilt, and the lists found in real
    code are a handful of items (0 of 1 sampled findings was worth changing).

    How to fix: use a set (``x in {"a", "b"}``) or a tuple of constants, or build the set once
    before the loop.
    """
    if not ctx.loop_depth:
        return None
    return _list_membership(ctx, node)


def _list_membership(ctx: FileContext, node: ast.Compare) -> Iterator[Hit]:
    for op, right in zip(node.ops, node.comparators, strict=True):
        if isinstance(op, ast.In | ast.NotIn) and isinstance(right, ast.List | ast.ListComp):
            yield Hit(
                right,
                "Membership test on a list inside a loop; use a set (or a tuple of constants).",
                fix="{" + ctx.segment(right)[1:-1] + "}"
                if isinstance(right, ast.List) and right.elts
                else None,
            )


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and len(parts) >= 2:
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


_REPEATED_LOOKUPS = 3


@ANALYZER.rule("PRF103", "repeated-lookup-in-loop", Category.PERFORMANCE, Severity.INFO,
               nodes=(ast.For, ast.While), confidence=Confidence.LOW, enabled=False)  # fmt: skip
def repeated_lookup_in_loop(ctx: FileContext, node: ast.For | ast.While) -> Iterator[Hit]:
    """The same dotted lookup (``a.b.c``) is repeated inside a loop body.

    Every ``a.b.c`` costs one dictionary lookup per dot, on every iteration. In a hot loop
    that is measurable. Only chains of at least two dots used three or more times are reported,
    and only when nothing in the loop assigns to the chain's root name.

    Off by default (select ``PRF103`` to run it): a static check cannot tell a hot loop from a
    cold one, and binding attributes to locals outside hot loops only costs readability
    (0 of 5 sampled findings were in code where it would matter).

    How to fix: bind the chain to a local before the loop (``join = os.path.join``).
    """
    if not ctx.function or ctx.loop_depth:
        return  # report once, at the outermost loop of the function
    counts: Counter[str] = Counter()
    first: dict[str, ast.expr] = {}
    assigned: set[str] = set()
    stack: list[ast.AST] = list(node.body)
    while stack:
        n = stack.pop()
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            assigned.add(n.id)
        if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load):
            dotted = _dotted(n)
            if dotted is not None:
                counts[dotted] += 1
                first.setdefault(dotted, n)
                continue
        stack.extend(ast.iter_child_nodes(n))
    for dotted, count in sorted(counts.items()):
        if count >= _REPEATED_LOOKUPS and dotted.split(".", 1)[0] not in assigned:
            yield Hit(
                Span(node.lineno, node.col_offset + 1, node.lineno, 0),
                f"'{dotted}' (first on line {first[dotted].lineno}) is looked up {count} times "
                "per iteration; bind it to a local before the loop.",
            )


def _is_len_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "len"
        and len(node.args) == 1
        and not node.keywords
    )


def _is_int(node: ast.expr, *values: int) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value in values


@ANALYZER.rule("PRF104", "len-comparison", Category.PERFORMANCE, Severity.INFO,
               nodes=(ast.Compare,))  # fmt: skip
def len_comparison(ctx: FileContext, node: ast.Compare) -> list[Hit] | None:
    """Emptiness tested with ``len(x) == 0`` (or ``!= 0``, ``> 0``, ``< 1``, ``>= 1``).

    A container's truth value says whether it is empty without a function call, reads better,
    and also works for objects that are iterable but have no cheap ``len``.

    How to fix: ``if not x:`` for empty, ``if x:`` for non-empty; where the comparison is a
    value rather than a condition (``has_items = len(x) > 0``), ``bool(x)``.
    """
    if len(node.ops) != 1 or not _is_len_call(node.left):
        return None
    op, right = node.ops[0], node.comparators[0]
    arg = ctx.segment(node.left.args[0]) if isinstance(node.left, ast.Call) else "x"
    if (isinstance(op, ast.Eq) and _is_int(right, 0)) or (
        isinstance(op, ast.Lt) and _is_int(right, 1)
    ):
        return [Hit(node, f"Use 'not {arg}' instead of comparing len() to 0.", fix=f"not {arg}")]
    elif (isinstance(op, ast.NotEq | ast.Gt) and _is_int(right, 0)) or (
        isinstance(op, ast.GtE) and _is_int(right, 1)
    ):
        if _is_condition(ctx, node):
            return [Hit(node, f"Use '{arg}' (its truth value) instead of comparing len() to 0.",
                        fix=arg)]  # fmt: skip
        # A value (assigned, returned, passed on) must stay a bool: the container is no fix.
        return [Hit(node, f"Use 'bool({arg})' instead of comparing len() to 0.",
                    fix=f"bool({arg})")]  # fmt: skip
    return None


def _is_condition(ctx: FileContext, node: ast.expr) -> bool:
    """Whether ``node`` is only tested for truth (the test of an if, while, assert, ...)."""
    parent = ctx.parents[-1] if ctx.parents else None
    if isinstance(parent, ast.If | ast.While | ast.IfExp | ast.Assert):
        return parent.test is node
    return isinstance(parent, ast.comprehension) or (
        isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)
    )


@ANALYZER.rule("PRF105", "range-len-loop", Category.PERFORMANCE, Severity.INFO,
               nodes=(ast.For,), confidence=Confidence.MEDIUM)  # fmt: skip
def range_len_loop(ctx: FileContext, node: ast.For) -> Iterator[Hit]:
    """Loop over ``range(len(seq))`` that indexes ``seq`` with the counter.

    Indexing on each iteration costs a lookup and hides the intent.

    How to fix: ``for i, item in enumerate(seq):`` (or ``for item in seq:`` when the index is
    only used to fetch the item).
    """
    it = node.iter
    if not (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Name)
        and it.func.id == "range"
        and len(it.args) == 1
        and _is_len_call(it.args[0])
        and isinstance(node.target, ast.Name)
    ):
        return
    seq = it.args[0].args[0] if isinstance(it.args[0], ast.Call) else None
    if not isinstance(seq, ast.Name):
        return
    index = node.target.id
    for n in ast.walk(ast.Module(body=node.body, type_ignores=[])):
        if (
            isinstance(n, ast.Subscript)
            and isinstance(n.value, ast.Name)
            and n.value.id == seq.id
            and isinstance(n.slice, ast.Name)
            and n.slice.id == index
            and isinstance(n.ctx, ast.Load)
        ):
            yield Hit(it, f"Iterate with 'enumerate({seq.id})' instead of 'range(len({seq.id}))'.")
            return
