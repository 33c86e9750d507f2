"""The rewrite space: at which tokens of a function a bug of each kind can sit, and its repairs.

The same space serves three purposes: injecting a bug (apply one rewrite to clean code),
training (the repair that undoes it is the target) and detection (the model scores every
location and repair of this space). A repair is either an entry of :data:`REPAIRS` (an operator,
a constant, an edit) or a pointer to another token of the function (a variable, attribute or
string that should be there instead).
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from pyforge.ml.units import Token, Unit

CMP_OPS = ["==", "!=", "<", "<=", ">", ">=", "is", "is not", "in", "not in"]
BIN_OPS = ["+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^", "@"]
BOOL_OPS = ["and", "or"]
CONSTANTS = ["True", "False", "None"]
EDITS = ["num_inc", "num_dec", "add_not", "remove_not", "swap_args"]
REPAIRS: list[str] = CMP_OPS + BIN_OPS + BOOL_OPS + CONSTANTS + EDITS
REPAIR_INDEX = {r: i for i, r in enumerate(REPAIRS)}

# Pointer classes: a location of class c may be repaired by a token of the same class.
PTR_NONE, PTR_NAME, PTR_ATTR, PTR_STRING = 0, 1, 2, 3

KINDS = [
    "variable-misuse",
    "wrong-literal",
    "wrong-comparison",
    "wrong-binary-operator",
    "negation",
    "and-or-swap",
    "swapped-arguments",
]

_CMP_NODES: dict[type[ast.cmpop], str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip
_NO_OP_TOKENS = {"(", ")"}


def repair_kind(repair: str | None, ptr_class: int) -> str:
    """The bug kind a repair belongs to (``repair`` None means a pointer repair)."""
    if repair is None:
        return "wrong-literal" if ptr_class == PTR_STRING else "variable-misuse"
    if repair in CMP_OPS:
        return "wrong-comparison"
    if repair in BIN_OPS:
        return "wrong-binary-operator"
    if repair in BOOL_OPS:
        return "and-or-swap"
    if repair in ("add_not", "remove_not"):
        return "negation"
    if repair == "swap_args":
        return "swapped-arguments"
    return "wrong-literal"


@dataclass(slots=True)
class Site:
    """What can be rewritten at one token: fixed repairs, and the pointer class if any."""

    repairs: list[str] = field(default_factory=list)
    ptr_class: int = PTR_NONE
    # Extra data an edit needs: the span of the expression (for swaps and negation).
    span: tuple[tuple[int, int], tuple[int, int]] | None = None
    other_span: tuple[tuple[int, int], tuple[int, int]] | None = None


@dataclass(slots=True)
class RewriteSpace:
    """Per token index: its rewrite site (if any) and its pointer-target class."""

    sites: dict[int, Site]
    target_class: list[int]  # class of each token as a pointer target (PTR_NONE if none)


class _Positions:
    """Maps AST (line, byte column) positions to token indices (tokens use char columns)."""

    def __init__(self, unit: Unit) -> None:
        self.lines = unit.text.splitlines()
        self.by_start = {tok.start: i for i, tok in enumerate(unit.tokens)}
        self.by_end = {tok.end: i for i, tok in enumerate(unit.tokens)}

    def char_pos(self, line: int, byte_col: int) -> tuple[int, int]:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return line, byte_col
        return line, len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))

    def start(self, node: ast.AST) -> tuple[int, int]:
        return self.char_pos(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> tuple[int, int]:
        return self.char_pos(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def start_index(self, node: ast.AST) -> int | None:
        return self.by_start.get(self.start(node))

    def end_index(self, node: ast.AST) -> int | None:
        return self.by_end.get(self.end(node))


def _between(unit: Unit, pos: _Positions, left: ast.AST, right: ast.AST) -> list[int]:
    """Indices of the operator tokens between two operands (parentheses skipped)."""
    lo, hi = pos.end(left), pos.start(right)
    return [
        i
        for i, tok in enumerate(unit.tokens)
        if tok.start >= lo and tok.end <= hi and tok.string not in _NO_OP_TOKENS
    ]


def _add(sites: dict[int, Site], index: int | None, repairs: list[str]) -> Site | None:
    if index is None:
        return None
    site = sites.setdefault(index, Site())
    site.repairs.extend(r for r in repairs if r not in site.repairs)
    return site


@dataclass
class _Walk:
    """What the per-node visitors of one function share."""

    unit: Unit
    pos: _Positions
    sites: dict[int, Site]
    target: list[int]
    doc_node: ast.stmt | None


def rewrite_space(unit: Unit) -> RewriteSpace:
    """Every rewrite site of a unit's function and every pointer target."""
    assert unit.func is not None
    pos = _Positions(unit)
    docstring = ast.get_docstring(unit.func, clean=False) is not None
    walk = _Walk(unit, pos, {}, [PTR_NONE] * len(unit.tokens),
                 unit.func.body[0] if docstring else None)  # fmt: skip
    for node in ast.walk(unit.func):
        visitor = _VISITORS.get(type(node))
        if visitor is not None:
            visitor(node, walk)
    # Only names that occur at least once as a target make pointer sites useful.
    return RewriteSpace(walk.sites, walk.target)


def _on_name(node: ast.AST, w: _Walk) -> None:
    assert isinstance(node, ast.Name)
    i = w.pos.start_index(node)
    if i is not None:
        w.target[i] = PTR_NAME
        if isinstance(node.ctx, ast.Load):
            w.sites.setdefault(i, Site()).ptr_class = PTR_NAME


def _on_arg(node: ast.AST, w: _Walk) -> None:
    assert isinstance(node, ast.arg)
    i = w.pos.start_index(node)
    if i is not None and w.unit.tokens[i].string == node.arg:
        w.target[i] = PTR_NAME


def _on_attribute(node: ast.AST, w: _Walk) -> None:
    assert isinstance(node, ast.Attribute)
    i = w.pos.end_index(node)
    if i is not None and w.unit.tokens[i].string == node.attr:
        w.target[i] = PTR_ATTR
        if isinstance(node.ctx, ast.Load):
            w.sites.setdefault(i, Site()).ptr_class = PTR_ATTR


def _on_constant(node: ast.AST, w: _Walk) -> None:
    assert isinstance(node, ast.Constant)
    _visit_constant(node, w.unit, w.pos, w.sites, w.target, w.doc_node)


def _on_compare(node: ast.AST, w: _Walk) -> None:
    assert isinstance(node, ast.Compare)
    operands = [node.left, *node.comparators]
    for k, op in enumerate(node.ops):
        idx = _between(w.unit, w.pos, operands[k], operands[k + 1])
        name = _CMP_NODES[type(op)]
        if idx and " ".join(w.unit.tokens[i].string for i in idx) == name:
            site = _add(w.sites, idx[0], [o for o in CMP_OPS if o != name])
            if site is not None:
                site.span = (w.unit.tokens[idx[0]].start, w.unit.tokens[idx[-1]].end)


def _on_binop(node: ast.AST, w: _Walk) -> None:
    assert isinstance(node, ast.BinOp)
    idx = _between(w.unit, w.pos, node.left, node.right)
    if len(idx) == 1 and w.unit.tokens[idx[0]].string in BIN_OPS:
        text = w.unit.tokens[idx[0]].string
        _add(w.sites, idx[0], [o for o in BIN_OPS if o != text])


def _on_boolop(node: ast.AST, w: _Walk) -> None:
    assert isinstance(node, ast.BoolOp)
    for left, right in itertools.pairwise(node.values):
        idx = _between(w.unit, w.pos, left, right)
        if len(idx) == 1 and w.unit.tokens[idx[0]].string in BOOL_OPS:
            text = w.unit.tokens[idx[0]].string
            _add(w.sites, idx[0], [o for o in BOOL_OPS if o != text])
    for value in node.values:
        _negation_site(value, w.pos, w.sites)


def _on_test(node: ast.AST, w: _Walk) -> None:
    assert isinstance(node, ast.If | ast.While | ast.IfExp | ast.Assert)
    _negation_site(node.test, w.pos, w.sites)


def _on_call(node: ast.AST, w: _Walk) -> None:
    assert isinstance(node, ast.Call)
    args = node.args
    if len(args) < 2 or any(isinstance(a, ast.Starred) for a in args):
        return
    for a, b in itertools.pairwise(args):
        site = _add(w.sites, w.pos.start_index(a), ["swap_args"])
        if site is not None:
            site.span = (w.pos.start(a), w.pos.end(a))
            site.other_span = (w.pos.start(b), w.pos.end(b))


#: One visitor per node type (a node has exactly one type, so at most one runs).
_VISITORS: dict[type[ast.AST], Callable[[ast.AST, _Walk], None]] = {
    ast.Name: _on_name, ast.arg: _on_arg, ast.Attribute: _on_attribute,
    ast.Constant: _on_constant, ast.Compare: _on_compare, ast.BinOp: _on_binop,
    ast.BoolOp: _on_boolop, ast.If: _on_test, ast.While: _on_test, ast.IfExp: _on_test,
    ast.Assert: _on_test, ast.Call: _on_call,
}  # fmt: skip


def _visit_constant(
    node: ast.Constant,
    unit: Unit,
    pos: _Positions,
    sites: dict[int, Site],
    target: list[int],
    doc_node: ast.stmt | None,
) -> None:
    i = pos.start_index(node)
    if i is None or pos.end_index(node) != i:  # implicit concatenation, negative numbers...
        return
    tok = unit.tokens[i]
    value = node.value
    if value is True or value is False or value is None:
        _add(sites, i, [c for c in CONSTANTS if c != tok.string])
    elif isinstance(value, int) and tok.string.isdigit():
        _add(sites, i, ["num_inc", "num_dec"] if value >= 1 else ["num_inc"])
    elif isinstance(value, str) and not (
        doc_node is not None and isinstance(doc_node, ast.Expr) and doc_node.value is node
    ):
        target[i] = PTR_STRING
        sites.setdefault(i, Site()).ptr_class = PTR_STRING


def _negation_site(test: ast.expr, pos: _Positions, sites: dict[int, Site]) -> None:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        site = _add(sites, pos.start_index(test), ["remove_not"])
        if site is not None:
            site.span = (pos.start(test), pos.start(test.operand))
    else:
        site = _add(sites, pos.start_index(test), ["add_not"])
        if site is not None:
            site.span = (pos.start(test), pos.end(test))


def pointer_targets(unit: Unit, space: RewriteSpace, index: int) -> dict[str, list[int]]:
    """For a pointer site: each distinct replacement string and the tokens that carry it."""
    site = space.sites.get(index)
    if site is None or site.ptr_class == PTR_NONE:
        return {}
    own = unit.tokens[index].string
    out: dict[str, list[int]] = {}
    for j, cls in enumerate(space.target_class):
        if cls == site.ptr_class and j != index:
            s = unit.tokens[j].string
            if s != own:
                out.setdefault(s, []).append(j)
    return out


def token_at(unit: Unit, start: tuple[int, int]) -> Token | None:
    """The token starting at a unit position, if any."""
    for tok in unit.tokens:
        if tok.start == start:
            return tok
    return None
