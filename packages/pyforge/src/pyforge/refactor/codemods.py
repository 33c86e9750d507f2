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
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import (
    CodeRange,
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
    negate,
    parenthesized,
)
from pyforge.refactor.model import RefactorError
from pyforge.refactor.patterns import (
    IndexUses,
    ReplaceIndex,
    append_body,
    bool_return_line,
    empty_list_assign,
    fold_or,
    merge_runs,
    or_chain,
    range_len,
    returned_bool,
    target_names,
)
from pyforge.refactor.prefilter import may_match


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
        when_true = returned_bool(stmt.body)
        if when_true is None:
            return None
        if isinstance(stmt.orelse, cst.Else):
            otherwise, consumed = returned_bool(stmt.orelse.body), 1
        elif stmt.orelse is None and k + 1 < len(updated):
            otherwise, consumed = bool_return_line(updated[k + 1]), 2
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
        condition = stmt.test if when_true else negate(stmt.test)
        value = as_bool(condition, shadowed)
        uses_bool = value is not condition  # wrapped in bool()
        new = cst.SimpleStatementLine(
            body=[cst.Return(value=value)], leading_lines=stmt.leading_lines
        )
        parts = list(updated[k : k + consumed])
        # The if's own leading comments stay; any other comment (one above the second
        # ``return`` too) would be lost.
        commented = inner_has_comment(parts[0]) or any(has_comment(p) for p in parts[1:])
        safe = not commented and not (uses_bool and "bool" in shadowed)
        message = "This if/else returns the condition's truth value: return it directly."
        span = (original[k], original[k + consumed - 1])
        if self._record("REF106", message, span, self._code(parts), self._code([new]), safe=safe):
            return consumed, [new]
        return None

    # -- REF103: r = [] / for x in it: r.append(e) --------------------------------------

    def _append_loop(self, original: Stmts, updated: Stmts, k: int) -> _Rewrite | None:
        if k + 1 >= len(updated):
            return None
        name = empty_list_assign(updated[k])
        loop = updated[k + 1]
        if name is None or not isinstance(loop, cst.For):
            return None
        parts = append_body(loop, name)
        if parts is None:
            return None
        elt, cond = parts
        comp = _comprehension(loop, elt, cond)
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
        # Class bodies hide their names from comprehensions; in a try (or with) block an
        # exception would leave the list half-built where the handler can see it.
        if scope.kind == "class" or scope.try_depth or _async_or_commented(loop):
            return False
        targets = target_names(loop.target)
        if targets is None or name in targets:
            return False
        risky = (cst.Lambda, cst.Yield, cst.Await, cst.NamedExpr, cst.FunctionDef)
        parts = [p for p in (elt, cond, loop.iter) if p is not None]
        if any(contains(p, risky, frozenset({name})) for p in parts):
            return False
        return self._loop_names_private(original_loop, targets, scope)

    @staticmethod
    def _loop_names_private(original_loop: cst.BaseStatement, targets: set[str],
                            scope: _Scope) -> bool:  # fmt: skip
        """The loop variable leaks out of a for loop but not out of a comprehension: it must
        not be used anywhere else in the scope (nor the scope be introspected)."""
        loop_counts = name_counts(original_loop)
        scope_counts = scope.counts()
        if SCOPE_INTROSPECTION & scope_counts.keys():
            return False
        return all(scope_counts[t] == loop_counts[t] for t in targets)

    # -- REF102: guard clauses ----------------------------------------------------------

    def _guard_clause(self, original: Stmts, updated: Stmts, k: int) -> _Rewrite | None:
        stmt = updated[k]
        if not isinstance(stmt, cst.If) or not isinstance(stmt.orelse, cst.Else):
            return None
        found = _drop_else(stmt, stmt.orelse) or _invert_if(stmt, stmt.orelse)
        if found is None:
            return None
        new, lost, message = found
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
        names = range_len(loop)
        if names is None or {"range", "len", "enumerate"} & self.facts.shadowed:
            return None
        seq, index = names
        uses = IndexUses(seq, index, self.metadata[ExpressionContextProvider])
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
            body=loop.body.visit(ReplaceIndex(seq, index, item)),
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

    def _zip_hint(self, orig: cst.For, uses: IndexUses, seq: str, header: str) -> None:
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
        operands, operators = or_chain(updated_node)
        merged = merge_runs(operands, operators)
        if merged is None:
            return updated_node
        new_operands, new_operators, calls = merged
        new = fold_or(new_operands, new_operators).with_changes(
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


_Guard = tuple[list[cst.BaseStatement], bool, str]


def _drop_else(stmt: cst.If, orelse: cst.Else) -> _Guard | None:
    """``if c: ...return`` + ``else: <nested>``: the else block follows the if instead.
    Returns the new statements, whether a comment would be lost, the message."""
    if not (exits(stmt.body) and is_nested(orelse.body)):
        return None
    new = [stmt.with_changes(orelse=None), *as_lines(orelse.body)]
    lost = block_comments(orelse.body) or _comment_above(orelse)
    return new, lost, "The if branch returns: drop the else and dedent its block."


def _invert_if(stmt: cst.If, orelse: cst.Else) -> _Guard | None:
    """``if c: <nested>`` + ``else: ...return``: ``if not c: ...return`` first, then the rest."""
    if not (exits(orelse.body) and is_nested(stmt.body)):
        return None
    guard = stmt.with_changes(
        test=negate(stmt.test), body=orelse.body, orelse=None,
        whitespace_before_test=cst.SimpleWhitespace(" "),
    )  # fmt: skip
    lost = block_comments(stmt.body) or _comment_above(orelse)
    message = "The else branch returns: test for it first (a guard clause) and dedent."
    return [guard, *as_lines(stmt.body)], lost, message


def _comprehension(
    loop: cst.For, elt: cst.BaseExpression, cond: cst.BaseExpression | None
) -> cst.ListComp:
    """``[elt for <target> in <iter> if cond]`` from the loop's parts (parenthesised where a
    comprehension's grammar needs it: a conditional or tuple iterable, say)."""
    ifs = [] if cond is None else [cst.CompIf(test=_tight(cond))]
    return cst.ListComp(
        elt=elt, for_in=cst.CompFor(target=loop.target, iter=_tight(loop.iter), ifs=ifs)
    )


#: What a comprehension's ``in``/``if`` part (a disjunction) cannot hold unparenthesised.
_COMP_LOOSE = (cst.IfExp, cst.Lambda, cst.NamedExpr, cst.Yield, cst.Tuple)


def _tight(expr: cst.BaseExpression) -> cst.BaseExpression:
    return parenthesized(expr) if not expr.lpar and isinstance(expr, _COMP_LOOSE) else expr


def _async_or_commented(loop: cst.For) -> bool:
    return loop.asynchronous is not None or inner_has_comment(loop)


def _comment_above(node: cst.Else) -> bool:
    return any(line.comment is not None for line in node.leading_lines)


def module_facts(tree: ast.Module) -> _Facts:
    """The module-wide facts the codemods need, from the module's ast."""
    from pyforge.refactor.cstutil import all_identifiers, bound_names

    bound = bound_names(tree)
    return _Facts(shadowed=bound & BUILTIN_NAMES, bound=bound, identifiers=all_identifiers(tree))


def run(
    source: str, rules: frozenset[str], *, apply: bool
) -> tuple[str, list[Change], Counter[str]]:
    """Run the codemods once over ``source``: the new code, every match, applied counts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarnings of the analysed code are not ours
        tree = ast.parse(source)
    if not may_match(tree):
        return source, [], Counter()
    facts = module_facts(tree)
    try:
        wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
        refactorer = Refactorer(wrapper.module, facts, rules, apply=apply)
        new = wrapper.visit(refactorer)
    except cst.ParserSyntaxError as exc:  # syntax ast accepts and libcst does not (yet)
        raise RefactorError(f"libcst cannot parse this file: {exc.message}") from None
    except RecursionError:
        raise RefactorError("nested too deeply to refactor") from None
    return new.code, refactorer.changes, refactorer.applied
