"""Bug risk: patterns that are legal Python but usually a mistake."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator

from pyforge.analysis.context import FileContext
from pyforge.analysis.findings import Category, Confidence, Severity
from pyforge.analysis.registry import Analyzer, Hit

ANALYZER = Analyzer(
    id="bugrisk",
    version="2",
    description="Mutable defaults, identity tests on literals, bare except, == None, "
    "shadowed builtins, unreachable code.",
)

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_MUTABLE_LITERALS = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
_MUTABLE_CALLS = frozenset({"list", "dict", "set", "bytearray", "defaultdict", "OrderedDict",
                            "Counter", "deque"})  # fmt: skip
_BUILTINS = frozenset(
    name
    for name in dir(builtins)
    if not name.startswith("_") and not (name[0].isupper() and name not in {"Ellipsis"})
)
# Names that shadow a builtin by long-standing convention or with no realistic harm.
_BUILTIN_ALLOWED = frozenset({"copyright", "credits", "license", "exit", "quit", "help"})


# FastAPI's and pydantic's parameter markers: a parameter declared with one is filled in by the
# framework on every call, which copies the declared default, so a ``[]`` there is not shared.
_FRAMEWORK_PARAMS = frozenset({"Query", "Header", "Cookie", "Path", "Body", "Form", "File",
                               "Depends", "Security", "Field"})  # fmt: skip


def _call_name(node: ast.AST) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _framework_parameter(arg: ast.arg) -> bool:
    """Whether ``arg`` is declared ``Annotated[T, Query()]`` (or another framework marker)."""
    ann = arg.annotation
    if not isinstance(ann, ast.Subscript):
        return False
    base = ann.value
    name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", None)
    if name != "Annotated" or not isinstance(ann.slice, ast.Tuple):
        return False
    return any(_call_name(meta) in _FRAMEWORK_PARAMS for meta in ann.slice.elts[1:])


def _defaults(args: ast.arguments) -> Iterator[tuple[ast.arg, ast.expr]]:
    """(parameter, default) for every parameter that has a default."""
    positional = [*args.posonlyargs, *args.args]
    yield from zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if default is not None:
            yield arg, default


def _is_mutable(node: ast.expr) -> bool:
    if isinstance(node, _MUTABLE_LITERALS):
        return True
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        return name in _MUTABLE_CALLS
    return False


@ANALYZER.rule("BUG101", "mutable-default-argument", Category.BUG_RISK, Severity.MAJOR,
               nodes=_FUNCTIONS, aliases=("B006",))  # fmt: skip
def mutable_default(ctx: FileContext, node: ast.FunctionDef) -> Iterator[Hit]:
    """Mutable default argument: one object is shared by every call.

    Default values are evaluated once, when the ``def`` runs. A list, dict or set default is
    therefore shared between calls, and mutating it leaks state from one call to the next.

    Not reported: parameters declared with a FastAPI or pydantic marker
    (``tags: Annotated[list[str], Query()] = []``), which the framework fills in on every call
    with a copy of the default. A ``# noqa: B006`` (ruff's code for this check) silences it.

    How to fix: default to ``None`` and create the object inside the function
    (``items = [] if items is None else items``).
    """
    for arg, default in _defaults(node.args):
        if _is_mutable(default) and not _framework_parameter(arg):
            yield Hit(
                default,
                f"Mutable default '{ctx.segment(default)}' is shared between calls; "
                "use None and create it in the body.",
                fix="None",
            )


@ANALYZER.rule("BUG102", "is-literal", Category.BUG_RISK, Severity.MAJOR, nodes=(ast.Compare,),
               aliases=("F632",))  # fmt: skip
def is_literal(ctx: FileContext, node: ast.Compare) -> list[Hit] | None:
    """Identity test (``is``/``is not``) against a literal.

    ``x is "abc"`` or ``x is 1`` compares object identity, which for strings and numbers
    depends on interning and caching details of the interpreter; Python warns about it.

    How to fix: use ``==``/``!=``. Keep ``is`` for ``None``, ``True``, ``False`` and sentinels.
    """
    if not any(isinstance(op, ast.Is | ast.IsNot) for op in node.ops):
        return None
    hits: list[Hit] = []
    left = node.left
    for op, right in zip(node.ops, node.comparators, strict=True):
        if isinstance(op, ast.Is | ast.IsNot):
            for side in (left, right):
                if (
                    isinstance(side, ast.Constant)
                    and side.value is not None
                    and side.value is not Ellipsis
                    and not isinstance(side.value, bool)
                ) or isinstance(side, ast.List | ast.Tuple | ast.Dict | ast.Set | ast.JoinedStr):
                    eq = "==" if isinstance(op, ast.Is) else "!="
                    hits.append(Hit(node, f"Identity test against a literal; use '{eq}'."))
                    break
        left = right
    return hits


@ANALYZER.rule("BUG103", "bare-except", Category.BUG_RISK, Severity.MAJOR,
               nodes=(ast.ExceptHandler,), aliases=("E722",))  # fmt: skip
def bare_except(ctx: FileContext, node: ast.ExceptHandler) -> Iterator[Hit]:
    """Bare ``except:`` also catches ``KeyboardInterrupt`` and ``SystemExit``.

    A bare ``except`` swallows Ctrl-C, ``sys.exit()`` and genuine bugs alike, and hides the
    errors it was not written for.

    A handler that re-raises (a bare ``raise`` in its body) is not reported: cleaning up and
    passing every exception on is what a bare ``except`` is for.

    How to fix: catch the exceptions you expect, or at most ``except Exception:``.
    """
    if node.type is None and not any(isinstance(s, ast.Raise) and s.exc is None for s in node.body):
        yield Hit(
            ast.Pass(lineno=node.lineno, col_offset=node.col_offset,
                     end_lineno=node.lineno, end_col_offset=node.col_offset + 7),
            "Bare 'except:' catches KeyboardInterrupt and SystemExit; name the exceptions.",
            fix="except Exception:",
        )  # fmt: skip


@ANALYZER.rule("BUG104", "compare-to-none", Category.BUG_RISK, Severity.MINOR,
               nodes=(ast.Compare,), aliases=("E711",))  # fmt: skip
def compare_to_none(ctx: FileContext, node: ast.Compare) -> list[Hit] | None:
    """Comparison to ``None`` with ``==``/``!=``.

    ``==`` calls ``__eq__``, which a class may override (NumPy arrays, ORM columns), so
    ``x == None`` can be true, false or not even a boolean.

    How to fix: use ``x is None`` / ``x is not None``.
    """
    if not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
        return None
    hits: list[Hit] = []
    left = node.left
    for op, right in zip(node.ops, node.comparators, strict=True):
        if isinstance(op, ast.Eq | ast.NotEq) and any(
            isinstance(s, ast.Constant) and s.value is None for s in (left, right)
        ):
            better = "is" if isinstance(op, ast.Eq) else "is not"
            hits.append(Hit(node, f"Comparison to None with '{'==' if better == 'is' else '!='}'"
                            f"; use '{better} None'."))  # fmt: skip
        left = right
    return hits


@ANALYZER.rule("BUG105", "compare-to-bool", Category.BUG_RISK, Severity.MINOR,
               nodes=(ast.Compare,), aliases=("E712",))  # fmt: skip
def compare_to_bool(ctx: FileContext, node: ast.Compare) -> list[Hit] | None:
    """Comparison to ``True``/``False`` with ``==``/``!=``.

    ``x == True`` is false for truthy values other than ``True`` itself (``1`` excepted), which
    is rarely what was meant.

    How to fix: test the value directly (``if x:`` / ``if not x:``) or use ``is`` when the
    exact singleton matters.
    """
    if not any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
        return None
    hits: list[Hit] = []
    left = node.left
    for op, right in zip(node.ops, node.comparators, strict=True):
        if isinstance(op, ast.Eq | ast.NotEq) and any(
            isinstance(s, ast.Constant) and isinstance(s.value, bool) for s in (left, right)
        ):
            hits.append(Hit(node, "Comparison to a bool with '=='/'!='; test the value directly."))
        left = right
    return hits


def _shadow_hit(name: str, node: ast.AST, what: str) -> Hit | None:
    if name in _BUILTINS and name not in _BUILTIN_ALLOWED:
        return Hit(node, f"{what} '{name}' shadows the builtin of the same name.")
    return None


@ANALYZER.rule("BUG106", "shadowed-builtin", Category.BUG_RISK, Severity.MINOR,
               nodes=(ast.Name, ast.arg, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef),
               confidence=Confidence.MEDIUM, aliases=("A001", "A002", "A003"),
               enabled=False)  # fmt: skip
def shadowed_builtin(ctx: FileContext, node: ast.AST) -> list[Hit] | None:
    """A variable, parameter, function or class is named like a builtin.

    After ``list = ...`` or ``def f(id): ...`` the builtin is unreachable in that scope, and
    later code calling it gets the wrong object. Methods and class attributes are not reported:
    they live in their own namespace.

    Off by default (select ``BUG106`` to run it): almost every shadowing in real code is a
    parameter named for its meaning (``type``, ``format``, ``filter``) or a loop variable in a
    scope that never calls the builtin, which nobody should rename (2 of 20 sampled findings
    were a risk; see ``docs/rules-precision.md``).

    How to fix: rename it (``items``, ``ident``, ``type_``).
    """
    if isinstance(node, ast.Name):
        # The hot path: most names are loads, and most stores are not builtins' names.
        if node.id not in _BUILTINS or not isinstance(node.ctx, ast.Store):
            return None
        parents = ctx.parents
        in_class_body = (
            len(parents) > 1
            and isinstance(parents[-1], ast.Assign | ast.AnnAssign)
            and isinstance(parents[-2], ast.ClassDef)
        )
        hit = None if in_class_body else _shadow_hit(node.id, node, "Variable")
    elif isinstance(node, ast.arg):
        if not (ctx.parents and isinstance(ctx.parents[-1], ast.arguments)):
            return None
        hit = _shadow_hit(node.arg, node, "Parameter")
    elif isinstance(node, ast.ClassDef):
        hit = _shadow_hit(node.name, node, "Class")
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        if ctx.parents and isinstance(ctx.parents[-1], ast.ClassDef):
            return None
        hit = _shadow_hit(node.name, node, "Function")
    else:
        return None
    return [hit] if hit is not None else None


_TERMINATORS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
_TERMINATOR_SET = frozenset(_TERMINATORS)
_BODY_NODES = (
    ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For,
    ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.TryStar, ast.ExceptHandler,
    ast.match_case,
)  # fmt: skip


@ANALYZER.rule("BUG107", "unreachable-code", Category.BUG_RISK, Severity.MAJOR,
               nodes=_BODY_NODES)  # fmt: skip
def unreachable_code(ctx: FileContext, node: ast.AST) -> list[Hit] | None:
    """Code after ``return``, ``raise``, ``continue`` or ``break`` in the same block never runs.

    Unreachable statements are dead weight at best, and at worst a sign that the control flow
    is not what the author intended (a misplaced ``return``, an indentation slip).

    How to fix: delete the unreachable statements or move them before the jump.
    """
    hits: list[Hit] | None = None
    for field in ("body", "orelse", "finalbody"):
        stmts = getattr(node, field, None)
        # Checked for every block of every file: most blocks have no jump before their last
        # statement, which one pass in C (type lookups in a set) tells.
        if not stmts or _TERMINATOR_SET.isdisjoint(map(type, stmts[:-1])):
            continue
        for i, stmt in enumerate(stmts[:-1]):
            if isinstance(stmt, _TERMINATORS):
                first, last = stmts[i + 1], stmts[-1]
                kind = type(stmt).__name__.lower()
                span_end = ast.Pass(
                    lineno=first.lineno,
                    col_offset=first.col_offset,
                    end_lineno=last.end_lineno,
                    end_col_offset=last.end_col_offset,
                )
                hits = hits or []
                message = f"Unreachable code after '{kind}' on line {stmt.lineno}."
                hits.append(Hit(span_end, message))
                break
    return hits


@ANALYZER.rule("BUG108", "assert-on-tuple", Category.BUG_RISK, Severity.MAJOR,
               nodes=(ast.Assert,), aliases=("F631",))  # fmt: skip
def assert_on_tuple(ctx: FileContext, node: ast.Assert) -> Iterator[Hit]:
    """``assert`` on a non-empty tuple is always true.

    ``assert (x > 0, "message")`` asserts a two-element tuple, which is truthy, so the check
    never fails.

    How to fix: drop the parentheses: ``assert x > 0, "message"``.
    """
    if isinstance(node.test, ast.Tuple) and node.test.elts:
        yield Hit(node, "Assertion on a non-empty tuple is always true; remove the parentheses.")
