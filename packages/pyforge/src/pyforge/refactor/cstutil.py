"""Small libcst helpers the codemods share: name counts, comments, negation, bool-ness."""

# libcst dispatches on method names such as ``visit_Name``: N802 cannot apply here.
# ruff: noqa: N802

from __future__ import annotations

import ast
import builtins
from collections import Counter
from collections.abc import Sequence

import libcst as cst

#: Calls whose result depends on the calling scope's variables: a rewrite that changes
#: which names are bound where would change what they see.
SCOPE_INTROSPECTION = frozenset({"locals", "vars", "dir", "eval", "exec", "super", "globals"})
BUILTIN_NAMES = frozenset(dir(builtins))


class _NameCounter(cst.CSTVisitor):
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def visit_Name(self, node: cst.Name) -> None:
        self.counts[node.value] += 1


def name_counts(node: cst.CSTNode) -> Counter[str]:
    """How often each identifier occurs in ``node`` (attribute names included, which only
    makes the checks that use it more cautious)."""
    counter = _NameCounter()
    node.visit(counter)
    return counter.counts


class _CommentFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Comment(self, node: cst.Comment) -> None:
        self.found = True


def has_comment(node: cst.CSTNode) -> bool:
    """Whether any comment lies inside ``node``; a rewrite that drops or moves the
    surrounding structure would lose it, so such places are left alone."""
    finder = _CommentFinder()
    node.visit(finder)
    return finder.found


def inner_has_comment(stmt: cst.BaseStatement) -> bool:
    """Comments inside a statement, not counting the lines above it (which are kept)."""
    return has_comment(stmt.with_changes(leading_lines=()))


class _Contains(cst.CSTVisitor):
    def __init__(self, kinds: tuple[type[cst.CSTNode], ...], names: frozenset[str]) -> None:
        self.kinds, self.names, self.found = kinds, names, False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, self.kinds) or (
            isinstance(node, cst.Name) and node.value in self.names
        ):
            self.found = True
        return not self.found


def contains(
    node: cst.CSTNode, kinds: tuple[type[cst.CSTNode], ...], names: frozenset[str] = frozenset()
) -> bool:
    """Whether ``node`` holds a node of one of ``kinds`` or a name in ``names``."""
    finder = _Contains(kinds, names)
    node.visit(finder)
    return finder.found


def bound_names(tree: ast.AST) -> frozenset[str]:
    """Every name the module binds anywhere (assignments, defs, imports, parameters):
    a builtin named here may be shadowed, so rewrites that call it are not safe."""
    out: set[str] = set()
    for node in ast.walk(tree):
        out.update(_binds(node))
    return frozenset(out)


def _binds(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [] if isinstance(node.ctx, ast.Load) else [node.id]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.alias):
        return [(node.asname or node.name).split(".")[0]]
    if isinstance(node, ast.Global | ast.Nonlocal):
        return list(node.names)
    if isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and node.name:
        return [node.name]
    return []


def all_identifiers(tree: ast.AST) -> frozenset[str]:
    """Every identifier the module mentions: a new name outside this set cannot collide."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
        elif isinstance(node, ast.alias):
            out.update((node.asname or node.name).split("."))
    return frozenset(out)


def parenthesized(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``expr`` in parentheses unless it already has them."""
    if expr.lpar:
        return expr
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


#: Expressions that bind less tightly than ``not`` (or than a comprehension's ``for`` part).
_LOOSE = (cst.BooleanOperation, cst.IfExp, cst.Lambda, cst.NamedExpr, cst.Yield, cst.Tuple)
_INVERSE = {cst.Is: cst.IsNot, cst.IsNot: cst.Is, cst.In: cst.NotIn, cst.NotIn: cst.In}


def needs_parens(expr: cst.BaseExpression) -> bool:
    """Whether ``expr`` must be parenthesised as the operand of ``not`` or as a
    comprehension's iterable/condition."""
    return not expr.lpar and isinstance(expr, _LOOSE)


def negate(expr: cst.BaseExpression) -> cst.BaseExpression:
    """An expression whose truth is the opposite of ``expr``'s (evaluating the same parts,
    once, in the same order)."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
        inner = expr.expression
        if not expr.lpar and not needs_parens(inner):
            return inner
    if isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1 and not expr.lpar:
        target = expr.comparisons[0]
        inverse = _INVERSE.get(type(target.operator))
        if inverse is not None:
            # ``is``/``in`` always produce a bool, so their inverse is exactly ``not``.
            return expr.with_changes(comparisons=[target.with_changes(operator=inverse())])
    operand = parenthesized(expr) if needs_parens(expr) else expr
    return cst.UnaryOperation(operator=cst.Not(), expression=operand)


_BOOL_CALLS = frozenset({"isinstance", "issubclass", "callable", "hasattr", "bool"})


def is_bool_valued(expr: cst.BaseExpression, shadowed: frozenset[str]) -> bool:
    """Whether ``expr`` always evaluates to a real ``bool`` (so ``bool(expr)`` is ``expr``)."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
        return True
    if isinstance(expr, cst.Name) and expr.value in ("True", "False"):
        return True
    if isinstance(expr, cst.Comparison):
        return all(
            isinstance(c.operator, cst.Is | cst.IsNot | cst.In | cst.NotIn)
            for c in expr.comparisons
        )
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Name)
        and expr.func.value in _BOOL_CALLS
        and expr.func.value not in shadowed
    )


def as_bool(expr: cst.BaseExpression, shadowed: frozenset[str]) -> cst.BaseExpression:
    """``expr`` as a real ``bool``: itself when it already is one, else ``bool(expr)``."""
    if is_bool_valued(expr, shadowed):
        return expr
    return cst.Call(func=cst.Name("bool"), args=[cst.Arg(value=expr)])


def block_statements(
    block: cst.BaseSuite,
) -> Sequence[cst.BaseStatement | cst.BaseSmallStatement]:
    """The statements of an indented block, or the small statements of a one-line suite."""
    return block.body


def as_lines(block: cst.BaseSuite) -> list[cst.BaseStatement]:
    """A block's statements as full statements (a one-line suite becomes one line)."""
    if isinstance(block, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=block.body)]
    assert isinstance(block, cst.IndentedBlock)
    return list(block.body)


def exits(block: cst.BaseSuite) -> bool:
    """Whether a block always leaves the function (or raises): its last statement is a
    ``return`` or ``raise``, so control never falls through it."""
    body = block.body
    if not body:
        return False
    last = body[-1]
    if isinstance(last, cst.SimpleStatementLine):
        small = last.body[-1] if last.body else None
    elif isinstance(last, cst.BaseSmallStatement):
        small = last
    else:
        return False
    return isinstance(small, cst.Return | cst.Raise)


def is_nested(block: cst.BaseSuite) -> bool:
    """Whether a block holds a compound statement (an if, loop, with or try)."""
    return isinstance(block, cst.IndentedBlock) and any(
        isinstance(s, cst.BaseCompoundStatement) for s in block.body
    )


def block_comments(block: cst.BaseSuite) -> bool:
    """Comments a rewrite that re-homes the block's statements would lose: on the header
    line and after the last statement."""
    if isinstance(block, cst.IndentedBlock):
        return block.header.comment is not None or any(
            line.comment is not None for line in block.footer
        )
    assert isinstance(block, cst.SimpleStatementSuite)
    return block.trailing_whitespace.comment is not None
