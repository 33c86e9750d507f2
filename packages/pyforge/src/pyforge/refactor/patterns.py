"""Pattern matchers the codemods use: each recognises one shape of code in a libcst tree
and pulls out its parts; deciding safety and rewriting is the codemods' job."""

# libcst dispatches on method names such as ``visit_Name``: N802 cannot apply here.
# ruff: noqa: N802

from __future__ import annotations

from collections.abc import Mapping

import libcst as cst
from libcst.metadata import ExpressionContext

from pyforge.refactor.cstutil import SCOPE_INTROSPECTION, has_comment


def returned_bool(block: cst.BaseSuite) -> bool | None:
    """True/False when the block is exactly ``return True``/``return False``."""
    if isinstance(block, cst.IndentedBlock):
        if len(block.body) != 1:
            return None
        return bool_return_line(block.body[0])
    if isinstance(block, cst.SimpleStatementSuite) and len(block.body) == 1:
        return bool_return(block.body[0])
    return None


def bool_return_line(stmt: cst.BaseStatement) -> bool | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        return bool_return(stmt.body[0])
    return None


def bool_return(small: cst.BaseSmallStatement) -> bool | None:
    if isinstance(small, cst.Return) and isinstance(small.value, cst.Name):
        return {"True": True, "False": False}.get(small.value.value)
    return None


def empty_list_assign(stmt: cst.BaseStatement) -> str | None:
    """The name in ``name = []`` (one target, an empty list without comments)."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    assign = stmt.body[0]
    if not (isinstance(assign, cst.Assign) and len(assign.targets) == 1):
        return None
    target, value = assign.targets[0].target, assign.value
    if isinstance(target, cst.Name) and isinstance(value, cst.List) and not value.elements:
        return None if has_comment(value) else target.value
    return None


def append_call(
    stmt: cst.BaseStatement | cst.BaseSmallStatement, name: str
) -> cst.BaseExpression | None:
    """``e`` when the statement is exactly ``name.append(e)``."""
    call = _expression_call(stmt)
    if call is None or len(call.args) != 1:
        return None
    func, arg = call.func, call.args[0]
    if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
        return None
    if func.value.value != name or func.attr.value != "append":
        return None
    return arg.value if arg.keyword is None and not arg.star else None


def _expression_call(stmt: cst.BaseStatement | cst.BaseSmallStatement) -> cst.Call | None:
    """The call of a statement that is one call expression."""
    if isinstance(stmt, cst.SimpleStatementLine):
        if len(stmt.body) != 1:
            return None
        stmt = stmt.body[0]
    if isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call):
        return stmt.value
    return None


def single(block: cst.BaseSuite) -> cst.BaseStatement | cst.BaseSmallStatement | None:
    body = block.body
    return body[0] if len(body) == 1 else None


def append_body(
    loop: cst.For, name: str
) -> tuple[cst.BaseExpression, cst.BaseExpression | None] | None:
    """``(e, cond)`` when the loop's body is ``name.append(e)``, optionally under one
    ``if cond:`` (no elif/else); no loop ``else``."""
    if loop.orelse is not None:
        return None
    stmt = single(loop.body)
    if stmt is None:
        return None
    if isinstance(stmt, cst.If):
        inner = single(stmt.body)
        if stmt.orelse is not None or inner is None:
            return None
        elt = append_call(inner, name)
        return None if elt is None else (elt, stmt.test)
    elt = append_call(stmt, name)
    return None if elt is None else (elt, None)


def target_names(target: cst.BaseExpression) -> set[str] | None:
    """The names a for-loop target binds, or None when it assigns anything but names."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Tuple | cst.List):
        names: set[str] = set()
        for element in target.elements:
            if isinstance(element, cst.StarredElement):
                return None
            inner = target_names(element.value)
            if inner is None:
                return None
            names |= inner
        return names
    return None


def range_len(loop: cst.For) -> tuple[str, str] | None:
    """``(x, i)`` for ``for i in range(len(x)):`` (x and i plain names)."""
    it = loop.iter
    if loop.asynchronous is not None or not isinstance(loop.target, cst.Name):
        return None
    if not (is_call(it, "range") and isinstance(it, cst.Call)):
        return None
    inner = it.args[0].value
    if not (is_call(inner, "len") and isinstance(inner, cst.Call)):
        return None
    seq = inner.args[0].value
    if not isinstance(seq, cst.Name):
        return None
    return seq.value, loop.target.value


def is_call(node: cst.BaseExpression, func: str) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == func
        and len(node.args) == 1
        and node.args[0].keyword is None
        and not node.args[0].star
    )


def index_of(node: cst.Subscript, index: str) -> bool:
    if len(node.slice) != 1:
        return False
    inner = node.slice[0].slice
    return (
        isinstance(inner, cst.Index)
        and isinstance(inner.value, cst.Name)
        and inner.value.value == index
        and inner.star is None
    )


class IndexUses(cst.CSTVisitor):
    """How an index loop's body uses the sequence and the index."""

    def __init__(self, seq: str, index: str, context: Mapping[cst.CSTNode, object]) -> None:
        super().__init__()
        self.seq, self.index, self.context = seq, index, context
        self.reads = 0
        self.safe = True
        self.others: set[str] = set()

    def _ctx(self, node: cst.CSTNode) -> object:
        return self.context.get(node)

    def visit_Subscript(self, node: cst.Subscript) -> bool:
        if isinstance(node.value, cst.Name) and index_of(node, self.index):
            if node.value.value == self.seq:
                self.reads += 1
                if self._ctx(node) is not ExpressionContext.LOAD:
                    self.safe = False
                return False  # its names are accounted for
            self.others.add(node.value.value)
        return True

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.seq or node.value in SCOPE_INTROSPECTION:
            self.safe = False  # the sequence is used otherwise (and may change)
        elif node.value == self.index and self._ctx(node) is not ExpressionContext.LOAD:
            self.safe = False  # the index is rebound

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.safe = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.safe = False

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.safe = False

    def visit_Global(self, node: cst.Global) -> None:
        self.safe = False

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.safe = False


class ReplaceIndex(cst.CSTTransformer):
    def __init__(self, seq: str, index: str, item: str) -> None:
        super().__init__()
        self.seq, self.index, self.item = seq, index, item

    def leave_Subscript(
        self, original_node: cst.Subscript, updated_node: cst.Subscript
    ) -> cst.BaseExpression:
        value = updated_node.value
        if (
            isinstance(value, cst.Name)
            and value.value == self.seq
            and index_of(updated_node, self.index)
        ):
            return cst.Name(self.item, lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node


def isinstance_parts(node: cst.BaseExpression) -> tuple[str, list[cst.BaseExpression]] | None:
    """``(x, [types])`` for ``isinstance(x, T)`` / ``isinstance(x, (A, B))``, x a name."""
    if not _plain_call(node, "isinstance", 2):
        return None
    assert isinstance(node, cst.Call)
    subject, types = node.args[0].value, node.args[1].value
    if not isinstance(subject, cst.Name):
        return None
    listed = _type_list(types)
    return None if listed is None else (subject.value, listed)


def _plain_call(node: cst.BaseExpression, func: str, arity: int) -> bool:
    """``func(a, b)`` with exactly ``arity`` positional arguments and no parentheses."""
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == func
        and len(node.args) == arity
        and all(a.keyword is None and not a.star for a in node.args)
        and not node.lpar
    )


def _type_list(types: cst.BaseExpression) -> list[cst.BaseExpression] | None:
    if isinstance(types, cst.Tuple):
        if any(isinstance(e, cst.StarredElement) for e in types.elements):
            return None
        return [e.value for e in types.elements]
    if isinstance(types, cst.Name | cst.Attribute):
        return [types]
    return None


def or_chain(
    node: cst.BaseExpression, *, top: bool = True
) -> tuple[list[cst.BaseExpression], list[cst.Or]]:
    """The operands of a chain ``a or b or c`` (left-nested in libcst) and its operators;
    a parenthesised part inside it is one operand."""
    if (
        isinstance(node, cst.BooleanOperation)
        and isinstance(node.operator, cst.Or)
        and (top or not node.lpar)
    ):
        operands, operators = or_chain(node.left, top=False)
        right, right_ops = or_chain(node.right, top=False)
        return [*operands, *right], [*operators, node.operator, *right_ops]
    return [node], []


def merge_runs(
    operands: list[cst.BaseExpression], operators: list[cst.Or]
) -> tuple[list[cst.BaseExpression], list[cst.Or], list[cst.Call]] | None:
    """Merge each run of adjacent ``isinstance`` calls on the same name; None if none."""
    out, ops, calls = [operands[0]], [], []
    for op, operand in zip(operators, operands[1:], strict=True):
        merged = merge_isinstance(out[-1], operand)
        if merged is None:
            out.append(operand)
            ops.append(op)
        else:
            out[-1] = merged
            calls.append(merged)
    if not calls:
        return None
    return out, ops, [c for c in out if isinstance(c, cst.Call) and c in calls]


def fold_or(operands: list[cst.BaseExpression], operators: list[cst.Or]) -> cst.BaseExpression:
    node = operands[0]
    for op, operand in zip(operators, operands[1:], strict=True):
        node = cst.BooleanOperation(left=node, operator=op, right=operand)
    return node


def merge_isinstance(left: cst.BaseExpression, right: cst.BaseExpression) -> cst.Call | None:
    a, b = isinstance_parts(left), isinstance_parts(right)
    if a is None or b is None or a[0] != b[0]:
        return None
    types = [*a[1], *b[1]]
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    elements = [
        cst.Element(t.with_changes(lpar=[], rpar=[]) if isinstance(t, cst.Name) else t,
                    comma=comma if i < len(types) - 1 else cst.MaybeSentinel.DEFAULT)
        for i, t in enumerate(types)
    ]  # fmt: skip
    assert isinstance(left, cst.Call)
    return cst.Call(
        func=cst.Name("isinstance"),
        args=[
            cst.Arg(cst.Name(a[0]), comma=comma),
            cst.Arg(cst.Tuple(elements, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])),
        ],
    )
