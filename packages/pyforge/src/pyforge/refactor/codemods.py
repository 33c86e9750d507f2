"""The libcst codemods: detect each pattern, decide whether rewriting it is exactly safe, and
(when asked to) rewrite it.

One transformer serves both ``suggest`` (``apply=False``: every match is recorded with its
before/after text, nothing changes) and ``fix`` (``apply=True``: the safe matches of the
selected rules are rewritten). Statement-level patterns are matched per block, on the way
out of the block, so nested blocks are already rewritten and a block's own statement list
still lines up with the original's (for positions).
"""

# libcst dispatches on method names such as ``visit_Name``: N802 cannot apply here.
# ruff: noqa: N802

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import (
    CodeRange,
    ExpressionContext,
    ExpressionContextProvider,
    MetadataWrapper,
    PositionProvider,
)

from pyforge.refactor.cstutil import (
    BUILTIN_NAMES,
    SCOPE_INTROSPECTION,
    as_bool,
    as_lines,
    block_comments,
    contains,
    exits,
    has_comment,
    inner_has_comment,
    is_nested,
    name_counts,
    needs_parens,
    negate,
    parenthesized,
)


@dataclass(frozen=True, slots=True)
class Change:
    """One match of a rule: where, what it is, what it would become, whether it is safe."""

    rule: str
    message: str
    start: tuple[int, int]  # 1-based line, 0-based column
    end: tuple[int, int]
    before: str
    after: str
    safe: bool


@dataclass
class _Scope:
    kind: str  # module, function or class
    node: cst.CSTNode
    try_depth: int = 0
    _counts: Counter[str] | None = None

    def counts(self) -> Counter[str]:
        if self._counts is None:
            self._counts = name_counts(self.node)
        return self._counts


@dataclass(frozen=True)
class _Facts:
    """What the codemods need to know about the whole module."""

    shadowed: frozenset[str]  # builtins the module rebinds somewhere
    bound: frozenset[str]  # names the module binds
    identifiers: frozenset[str]  # every identifier it mentions


Stmts = Sequence[cst.BaseStatement]
_Rewrite = tuple[int, list[cst.BaseStatement]]


class Refactorer(cst.CSTTransformer):
    """Records (and, with ``apply``, performs) the refactorings of ``rules``."""

    METADATA_DEPENDENCIES = (PositionProvider, ExpressionContextProvider)

    def __init__(
        self, module: cst.Module, facts: _Facts, rules: frozenset[str], *, apply: bool
    ) -> None:
        super().__init__()
        self.module, self.facts, self.rules, self.apply = module, facts, rules, apply
        self.changes: list[Change] = []
        self.applied: Counter[str] = Counter()
        self._scopes: list[_Scope] = []

    # -- scopes -------------------------------------------------------------------------

    def visit_Module(self, node: cst.Module) -> None:
        self._scopes.append(_Scope("module", node))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes.append(_Scope("function", node))

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self._scopes.pop()
        return updated_node

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes.append(_Scope("class", node))

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        self._scopes.pop()
        return updated_node

    def visit_Try(self, node: cst.Try) -> None:
        self._scopes[-1].try_depth += 1

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try) -> cst.Try:
        self._scopes[-1].try_depth -= 1
        return updated_node

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self._scopes[-1].try_depth += 1

    def leave_TryStar(self, original_node: cst.TryStar, updated_node: cst.TryStar) -> cst.TryStar:
        self._scopes[-1].try_depth -= 1
        return updated_node

    def visit_With(self, node: cst.With) -> None:
        # A context manager may swallow an exception (contextlib.suppress): code after
        # the block then sees half-done work, as after a try.
        self._scopes[-1].try_depth += 1

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.With:
        self._scopes[-1].try_depth -= 1
        return updated_node

    # -- recording ----------------------------------------------------------------------

    def _record(
        self,
        rule: str,
        message: str,
        span: tuple[cst.CSTNode, cst.CSTNode],
        before: str,
        after: str,
        *,
        safe: bool,
    ) -> bool:
        """Record a match; True when the caller should rewrite it."""
        first: CodeRange = self.get_metadata(PositionProvider, span[0])
        last: CodeRange = self.get_metadata(PositionProvider, span[1])
        self.changes.append(Change(
            rule, message, (first.start.line, first.start.column),
            (last.end.line, last.end.column), before, after, safe,
        ))  # fmt: skip
        rewrite = safe and self.apply and rule in self.rules
        if rewrite:
            self.applied[rule] += 1
        return rewrite

    def _code(self, nodes: Sequence[cst.CSTNode]) -> str:
        parts = []
        for node in nodes:
            if isinstance(node, cst.SimpleStatementLine | cst.BaseCompoundStatement):
                node = node.with_changes(leading_lines=())
            parts.append(self.module.code_for_node(node))
        return "".join(parts).rstrip("\n")

    # -- blocks -------------------------------------------------------------------------

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        return updated_node.with_changes(
            body=self._rewrite_block(original_node.body, updated_node.body)
        )

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(
            body=self._rewrite_block(original_node.body, updated_node.body)
        )

    def _rewrite_block(self, original: Stmts, updated: Stmts) -> list[cst.BaseStatement]:
        matchers: tuple[Callable[[Stmts, Stmts, int], _Rewrite | None], ...] = (
            self._boolean_return, self._append_loop, self._guard_clause, self._index_loop,
        )  # fmt: skip
        out: list[cst.BaseStatement] = []
        k = 0
        while k < len(updated):
            for matcher in matchers:
                found = matcher(original, updated, k)
                if found is not None:
                    consumed, replacement = found
                    out += replacement
                    k += consumed
                    break
            else:
                out.append(updated[k])
                k += 1
        return out

    # -- REF106: if c: return True / else: return False --------------------------------

    def _boolean_return(self, original: Stmts, updated: Stmts, k: int) -> _Rewrite | None:
        stmt = updated[k]
        if not isinstance(stmt, cst.If) or not isinstance(original[k], cst.If):
            return None
        when_true = _returned_bool(stmt.body)
        if when_true is None:
            return None
        if isinstance(stmt.orelse, cst.Else):
            otherwise, consumed = _returned_bool(stmt.orelse.body), 1
        elif stmt.orelse is None and k + 1 < len(updated):
            otherwise, consumed = _bool_return_line(updated[k + 1]), 2
        else:
            return None
        if otherwise is None or otherwise == when_true:
            return None
        return self._emit_boolean_return(original, updated, k, consumed, when_true=when_true)

    def _emit_boolean_return(
        self, original: Stmts, updated: Stmts, k: int, consumed: int, *, when_true: bool
    ) -> _Rewrite | None:
        stmt = updated[k]
        assert isinstance(stmt, cst.If)
        shadowed = self.facts.shadowed
        value = as_bool(stmt.test if when_true else negate(stmt.test), shadowed)
        uses_bool = isinstance(value, cst.Call) and value.func is not stmt.test
        new = cst.SimpleStatementLine(
            body=[cst.Return(value=value)], leading_lines=stmt.leading_lines
        )
        parts = list(updated[k : k + consumed])
        safe = not any(inner_has_comment(p) for p in parts) and not (
            uses_bool and "bool" in shadowed
        )
        message = "This if/else returns the condition's truth value: return it directly."
        span = (original[k], original[k + consumed - 1])
        if self._record("REF106", message, span, self._code(parts), self._code([new]), safe=safe):
            return consumed, [new]
        return None

    # -- REF103: r = [] / for x in it: r.append(e) --------------------------------------

    def _append_loop(self, original: Stmts, updated: Stmts, k: int) -> _Rewrite | None:
        if k + 1 >= len(updated):
            return None
        name = _empty_list_assign(updated[k])
        loop = updated[k + 1]
        if name is None or not isinstance(loop, cst.For):
            return None
        parts = _append_body(loop, name)
        if parts is None:
            return None
        elt, cond = parts
        comp = cst.ListComp(
            elt=elt,
            for_in=cst.CompFor(
                target=loop.target,
                iter=parenthesized(loop.iter) if needs_parens(loop.iter) else loop.iter,
                ifs=[] if cond is None else [cst.CompIf(
                    test=parenthesized(cond) if needs_parens(cond) else cond)],
            ),
        )  # fmt: skip
        assign = updated[k]
        assert isinstance(assign, cst.SimpleStatementLine)
        first = assign.body[0]
        assert isinstance(first, cst.Assign)
        new = assign.with_changes(
            body=[first.with_changes(value=comp)],
            leading_lines=[*assign.leading_lines, *loop.leading_lines],
        )
        safe = self._append_loop_safe(original[k + 1], loop, name, elt, cond)
        message = f"'{name}' is built by a loop that only appends: use a list comprehension."
        span = (original[k], original[k + 1])
        before = self._code([assign, loop])
        if self._record("REF103", message, span, before, self._code([new]), safe=safe):
            return 2, [new]
        return None

    def _append_loop_safe(
        self,
        original_loop: cst.BaseStatement,
        loop: cst.For,
        name: str,
        elt: cst.BaseExpression,
        cond: cst.BaseExpression | None,
    ) -> bool:
        scope = self._scopes[-1]
        if scope.kind == "class" or scope.try_depth or loop.asynchronous is not None:
            return False  # class bodies hide their names from comprehensions
        if inner_has_comment(loop):
            return False
        targets = _target_names(loop.target)
        if targets is None or name in targets:
            return False
        # The loop variable leaks out of a for loop but not out of a comprehension: it must
        # not be used anywhere else in the scope.
        loop_counts = name_counts(original_loop)
        scope_counts = scope.counts()
        if any(scope_counts[t] != loop_counts[t] for t in targets):
            return False
        if SCOPE_INTROSPECTION & scope_counts.keys():
            return False
        risky = (cst.Lambda, cst.Yield, cst.Await, cst.NamedExpr, cst.FunctionDef)
        for part in (elt, cond, loop.iter):
            if part is not None and contains(part, risky, frozenset({name})):
                return False
        return True

    # -- REF102: guard clauses ----------------------------------------------------------

    def _guard_clause(self, original: Stmts, updated: Stmts, k: int) -> _Rewrite | None:
        stmt = updated[k]
        if not isinstance(stmt, cst.If) or not isinstance(stmt.orelse, cst.Else):
            return None
        orelse = stmt.orelse
        if exits(stmt.body) and is_nested(orelse.body):
            new: list[cst.BaseStatement] = [stmt.with_changes(orelse=None), *as_lines(orelse.body)]
            lost = block_comments(orelse.body) or any(
                line.comment is not None for line in orelse.leading_lines
            )
            message = "The if branch returns: drop the else and dedent its block."
        elif exits(orelse.body) and is_nested(stmt.body):
            guard = stmt.with_changes(
                test=negate(stmt.test), body=orelse.body, orelse=None,
                whitespace_before_test=cst.SimpleWhitespace(" "),
            )  # fmt: skip
            new = [guard, *as_lines(stmt.body)]
            lost = block_comments(stmt.body) or any(
                line.comment is not None for line in orelse.leading_lines
            )
            message = "The else branch returns: test for it first (a guard clause) and dedent."
        else:
            return None
        before, after = self._code([stmt]), self._code(new)
        if self._record("REF102", message, (original[k], original[k]), before, after,
                        safe=not lost):  # fmt: skip
            return 1, new
        return None

    # -- REF104/REF105: for i in range(len(x)) ------------------------------------------

    def _index_loop(self, original: Stmts, updated: Stmts, k: int) -> _Rewrite | None:
        loop, orig = updated[k], original[k]
        if not isinstance(loop, cst.For) or not isinstance(orig, cst.For):
            return None
        names = _range_len(loop)
        if names is None or {"range", "len", "enumerate"} & self.facts.shadowed:
            return None
        seq, index = names
        uses = _IndexUses(seq, index, self.metadata[ExpressionContextProvider])
        orig.body.visit(uses)
        if not uses.reads:
            return None
        item = self._item_name(seq)
        new = loop.with_changes(
            target=cst.Tuple(
                [cst.Element(cst.Name(index), comma=cst.Comma(whitespace_after=cst.
                             SimpleWhitespace(" "))), cst.Element(cst.Name(item))],
                lpar=[], rpar=[],
            ),
            iter=cst.Call(func=cst.Name("enumerate"), args=[cst.Arg(cst.Name(seq))]),
            body=loop.body.visit(_ReplaceIndex(seq, index, item)),
        )  # fmt: skip
        header = self._code([loop.with_changes(body=cst.SimpleStatementSuite([cst.Pass()]))])
        after = self._code([new.with_changes(body=cst.SimpleStatementSuite([cst.Pass()]))])
        self._zip_hint(orig, uses, seq, header)
        message = f"Iterate with enumerate({seq}) instead of indexing {seq}[{index}]."
        safe = uses.safe and not inner_has_comment(loop.with_changes(body=cst.IndentedBlock([])))
        if self._record("REF104", message, (orig, orig), header.removesuffix(" pass"),
                        after.removesuffix(" pass"), safe=safe):  # fmt: skip
            return 1, [new]
        return None

    def _zip_hint(self, orig: cst.For, uses: _IndexUses, seq: str, header: str) -> None:
        if not uses.others:
            return
        names = ", ".join([seq, *sorted(uses.others)])
        message = f"The loop reads {names} at the same index: iterate with zip({names})."
        self._record("REF105", message, (orig, orig), header.removesuffix(" pass"),
                     f"for {names.replace(', ', '_item, ')}_item in zip({names}):",
                     safe=False)  # fmt: skip

    def _item_name(self, seq: str) -> str:
        taken = self.facts.identifiers | BUILTIN_NAMES
        candidates = [seq[:-1] if seq.endswith("s") and len(seq) > 2 else "", "item",
                      f"{seq}_item"]  # fmt: skip
        for candidate in candidates:
            if candidate and candidate not in taken and candidate.isidentifier():
                return candidate
        n = 2
        while f"{seq}_item{n}" in taken:
            n += 1
        return f"{seq}_item{n}"

    # -- REF107: isinstance(x, A) or isinstance(x, B) -----------------------------------

    def leave_BooleanOperation(
        self, original_node: cst.BooleanOperation, updated_node: cst.BooleanOperation
    ) -> cst.BaseExpression:
        if not isinstance(updated_node.operator, cst.Or) or "isinstance" in self.facts.shadowed:
            return updated_node
        operands, operators = _or_chain(updated_node)
        merged = _merge_runs(operands, operators)
        if merged is None:
            return updated_node
        new_operands, new_operators, calls = merged
        new = _fold_or(new_operands, new_operators).with_changes(
            lpar=updated_node.lpar, rpar=updated_node.rpar
        )
        safe = all(self._types_defined(c) for c in calls) and not has_comment(updated_node)
        message = "Merge the isinstance() calls into one with a tuple of types."
        if self._record("REF107", message, (original_node, original_node),
                        self._code([updated_node]), self._code([new]), safe=safe):  # fmt: skip
            return new
        return updated_node

    def _types_defined(self, call: cst.Call) -> bool:
        """Whether every type name is a builtin or bound in the module: the merged call
        evaluates all of them, where ``or`` stopped at the first match."""
        types = call.args[1].value
        elements = types.elements if isinstance(types, cst.Tuple) else [cst.Element(types)]
        known = self.facts.bound | BUILTIN_NAMES
        for element in elements:
            root = element.value
            while isinstance(root, cst.Attribute):
                root = root.value
            if not isinstance(root, cst.Name) or root.value not in known:
                return False
        return True


# -- pattern helpers ------------------------------------------------------------------------


def _returned_bool(block: cst.BaseSuite) -> bool | None:
    """True/False when the block is exactly ``return True``/``return False``."""
    if isinstance(block, cst.IndentedBlock):
        if len(block.body) != 1:
            return None
        return _bool_return_line(block.body[0])
    if isinstance(block, cst.SimpleStatementSuite) and len(block.body) == 1:
        return _bool_return(block.body[0])
    return None


def _bool_return_line(stmt: cst.BaseStatement) -> bool | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        return _bool_return(stmt.body[0])
    return None


def _bool_return(small: cst.BaseSmallStatement) -> bool | None:
    if isinstance(small, cst.Return) and isinstance(small.value, cst.Name):
        return {"True": True, "False": False}.get(small.value.value)
    return None


def _empty_list_assign(stmt: cst.BaseStatement) -> str | None:
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


def _append_call(
    stmt: cst.BaseStatement | cst.BaseSmallStatement, name: str
) -> cst.BaseExpression | None:
    """``e`` when the statement is exactly ``name.append(e)``."""
    if isinstance(stmt, cst.SimpleStatementLine):
        if len(stmt.body) != 1:
            return None
        stmt = stmt.body[0]
    if not isinstance(stmt, cst.Expr) or not isinstance(stmt.value, cst.Call):
        return None
    call = stmt.value
    func = call.func
    if not (
        isinstance(func, cst.Attribute)
        and isinstance(func.value, cst.Name)
        and func.value.value == name
        and func.attr.value == "append"
        and len(call.args) == 1
    ):
        return None
    arg = call.args[0]
    if arg.keyword is not None or arg.star:
        return None
    return arg.value


def _single(block: cst.BaseSuite) -> cst.BaseStatement | cst.BaseSmallStatement | None:
    body = block.body
    return body[0] if len(body) == 1 else None


def _append_body(
    loop: cst.For, name: str
) -> tuple[cst.BaseExpression, cst.BaseExpression | None] | None:
    """``(e, cond)`` when the loop's body is ``name.append(e)``, optionally under one
    ``if cond:`` (no elif/else); no loop ``else``."""
    if loop.orelse is not None:
        return None
    stmt = _single(loop.body)
    if stmt is None:
        return None
    if isinstance(stmt, cst.If):
        inner = _single(stmt.body)
        if stmt.orelse is not None or inner is None:
            return None
        elt = _append_call(inner, name)
        return None if elt is None else (elt, stmt.test)
    elt = _append_call(stmt, name)
    return None if elt is None else (elt, None)


def _target_names(target: cst.BaseExpression) -> set[str] | None:
    """The names a for-loop target binds, or None when it assigns anything but names."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Tuple | cst.List):
        names: set[str] = set()
        for element in target.elements:
            if isinstance(element, cst.StarredElement):
                return None
            inner = _target_names(element.value)
            if inner is None:
                return None
            names |= inner
        return names
    return None


def _range_len(loop: cst.For) -> tuple[str, str] | None:
    """``(x, i)`` for ``for i in range(len(x)):`` (x and i plain names)."""
    it = loop.iter
    if loop.asynchronous is not None or not isinstance(loop.target, cst.Name):
        return None
    if not (_is_call(it, "range") and isinstance(it, cst.Call)):
        return None
    inner = it.args[0].value
    if not (_is_call(inner, "len") and isinstance(inner, cst.Call)):
        return None
    seq = inner.args[0].value
    if not isinstance(seq, cst.Name):
        return None
    return seq.value, loop.target.value


def _is_call(node: cst.BaseExpression, func: str) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == func
        and len(node.args) == 1
        and node.args[0].keyword is None
        and not node.args[0].star
    )


def _index_of(node: cst.Subscript, index: str) -> bool:
    if len(node.slice) != 1:
        return False
    inner = node.slice[0].slice
    return (
        isinstance(inner, cst.Index)
        and isinstance(inner.value, cst.Name)
        and inner.value.value == index
        and inner.star is None
    )


class _IndexUses(cst.CSTVisitor):
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
        if isinstance(node.value, cst.Name) and _index_of(node, self.index):
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


class _ReplaceIndex(cst.CSTTransformer):
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
            and _index_of(updated_node, self.index)
        ):
            return cst.Name(self.item, lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node


def _isinstance_parts(node: cst.BaseExpression) -> tuple[str, list[cst.BaseExpression]] | None:
    """``(x, [types])`` for ``isinstance(x, T)`` / ``isinstance(x, (A, B))``, x a name."""
    if not (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "isinstance"
        and len(node.args) == 2
        and all(a.keyword is None and not a.star for a in node.args)
        and not node.lpar
    ):
        return None
    subject, types = node.args[0].value, node.args[1].value
    if not isinstance(subject, cst.Name):
        return None
    if isinstance(types, cst.Tuple):
        if any(isinstance(e, cst.StarredElement) for e in types.elements):
            return None
        return subject.value, [e.value for e in types.elements]
    if isinstance(types, cst.Name | cst.Attribute):
        return subject.value, [types]
    return None


def _or_chain(
    node: cst.BaseExpression, *, top: bool = True
) -> tuple[list[cst.BaseExpression], list[cst.Or]]:
    """The operands of a chain ``a or b or c`` (left-nested in libcst) and its operators;
    a parenthesised part inside it is one operand."""
    if (
        isinstance(node, cst.BooleanOperation)
        and isinstance(node.operator, cst.Or)
        and (top or not node.lpar)
    ):
        operands, operators = _or_chain(node.left, top=False)
        right, right_ops = _or_chain(node.right, top=False)
        return [*operands, *right], [*operators, node.operator, *right_ops]
    return [node], []


def _merge_runs(
    operands: list[cst.BaseExpression], operators: list[cst.Or]
) -> tuple[list[cst.BaseExpression], list[cst.Or], list[cst.Call]] | None:
    """Merge each run of adjacent ``isinstance`` calls on the same name; None if none."""
    out, ops, calls = [operands[0]], [], []
    for op, operand in zip(operators, operands[1:], strict=True):
        merged = _merge_isinstance(out[-1], operand)
        if merged is None:
            out.append(operand)
            ops.append(op)
        else:
            out[-1] = merged
            calls.append(merged)
    if not calls:
        return None
    return out, ops, [c for c in out if isinstance(c, cst.Call) and c in calls]


def _fold_or(operands: list[cst.BaseExpression], operators: list[cst.Or]) -> cst.BaseExpression:
    node = operands[0]
    for op, operand in zip(operators, operands[1:], strict=True):
        node = cst.BooleanOperation(left=node, operator=op, right=operand)
    return node


def _merge_isinstance(left: cst.BaseExpression, right: cst.BaseExpression) -> cst.Call | None:
    a, b = _isinstance_parts(left), _isinstance_parts(right)
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


def module_facts(source: str) -> _Facts:
    """Parse ``source`` with ast once for the module-wide facts (SyntaxError if it does not
    parse)."""
    from pyforge.refactor.cstutil import all_identifiers, bound_names

    tree = ast.parse(source)
    bound = bound_names(tree)
    return _Facts(shadowed=bound & BUILTIN_NAMES, bound=bound, identifiers=all_identifiers(tree))


def run(
    source: str, rules: frozenset[str], *, apply: bool
) -> tuple[str, list[Change], Counter[str]]:
    """Run the codemods once over ``source``: the new code, every match, applied counts."""
    facts = module_facts(source)
    wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    refactorer = Refactorer(wrapper.module, facts, rules, apply=apply)
    new = wrapper.visit(refactorer)
    return new.code, refactorer.changes, refactorer.applied
