"""The single pass over a file's AST: metrics and every node rule, in one traversal.

Cyclomatic complexity follows radon's ``ComplexityVisitor`` exactly: +1 for ``if``/``elif``,
conditional expressions, ``assert`` (whose operands are not looked into), each ``except``
handler, ``try ... else``, loops (+1 more with ``else``), every comprehension ``for`` and its
``if`` clauses, and ``n - 1`` per boolean operation of ``n`` operands; a ``match`` adds its
cases, less one for a catch-all. A function's figure excludes its nested functions and classes;
decorators, defaults and annotations count nowhere. A class's figure is 1 + the decision points
of its body + its methods' figures, averaged over the methods the way radon reports it.

Cognitive complexity follows SonarSource's white paper (version 1.7) and its Python analyzer:

* +1 plus the nesting level for ``if``, conditional expressions, loops, each ``except``,
  ``match`` (once; its cases add nothing) and each ``if`` clause of a comprehension;
* +1 without nesting for ``elif`` and for every ``else`` (of ``if``, loops and ``try``);
* +1 per sequence of like boolean operators, in source order, and +1 at each change of
  operator; a parenthesised operand starts a sequence of its own;
* +1 once for a function that calls itself (recursion); ``break``/``continue`` add nothing
  (Python has no labels); ``try``, ``finally`` and ``with`` neither increment nor nest;
* the bodies of ``if``/``elif``/``else``, loops, ``except``, ``match`` cases, conditional
  expressions and lambdas are one nesting level deeper;
* a nested function adds a nesting level without an increment, and its increments also count
  towards its enclosing function; a nested function is not one level deeper when everything
  else in its enclosing function is ``return <name>`` (a decorator's wrapper), and a class
  resets the level of its methods to 0.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyforge.analysis.context import FileContext
from pyforge.analysis.metrics.halstead import HalsteadCounter
from pyforge.analysis.metrics.model import ClassMetrics, FunctionMetrics
from pyforge.analysis.rules import FunctionCheck, NodeCheck, Rule

_LEAF_TYPES: frozenset[type] = frozenset(
    t
    for base in (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)
    for t in base.__subclasses__()
)
_HALSTEAD_TYPES: frozenset[type] = frozenset(
    {ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.AugAssign, ast.Compare}
)
# Child fields worth visiting for the most frequent node types (the rest use ``_fields``):
# skipping identifier strings, constants and context singletons saves a third of the pass.
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {
    ast.Name: (),
    ast.Constant: (),
    ast.Pass: (),
    ast.Break: (),
    ast.Continue: (),
    ast.Global: (),
    ast.Nonlocal: (),
    ast.alias: (),
    ast.Attribute: ("value",),
    ast.Call: ("func", "args", "keywords"),
    ast.keyword: ("value",),
    ast.Expr: ("value",),
    ast.Assign: ("targets", "value"),
    ast.Return: ("value",),
    ast.Subscript: ("value", "slice"),
    ast.Tuple: ("elts",),
    ast.List: ("elts",),
    ast.BinOp: ("left", "right"),
    ast.UnaryOp: ("operand",),
    ast.Compare: ("left", "comparators"),
    ast.AugAssign: ("target", "value"),
    ast.arg: ("annotation",),
    ast.arguments: ("posonlyargs", "args", "vararg", "kwonlyargs", "kw_defaults", "kwarg",
                    "defaults"),
    ast.Starred: ("value",),
    ast.Dict: ("keys", "values"),
    ast.JoinedStr: ("values",),
    ast.FormattedValue: ("value", "format_spec"),
    ast.Import: (),
    ast.ImportFrom: (),
}  # fmt: skip
_CALL_CHILDREN = _CHILD_FIELDS[ast.Call]
_SELF_NAMES = frozenset({"self", "cls", "mcs", "mcls", "metacls"})

BoundNodeCheck = Callable[[FileContext, ast.AST], None]
#: Per node type: its checks, whether Halstead counts it, its handler, its child fields.
_Dispatch = tuple[
    list[tuple[Rule, NodeCheck]] | None, bool, Callable[[ast.AST], None] | None, tuple[str, ...]
]


@dataclass(slots=True)
class _Block:
    """A radon block (module, class or function) accumulating its decision points."""

    kind: str
    cc: int = 1
    methods: int = 0
    function: FunctionMetrics | None = None


@dataclass(slots=True)
class _FunctionState:
    metrics: FunctionMetrics
    name: str
    is_method: bool
    node: ast.FunctionDef | ast.AsyncFunctionDef
    nesting: int = 0
    depth: int = 0
    recursive: bool = False


def _is_wrapper(outer: ast.FunctionDef | ast.AsyncFunctionDef, inner: ast.AST) -> bool:
    """Whether ``inner`` is a decorator's wrapper: the rest of ``outer`` is ``return <name>``."""
    return all(
        stmt is inner or (isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Name))
        for stmt in outer.body
    )


def _source_between(lines: Sequence[str], start: tuple[int, int], end: tuple[int, int]) -> str:
    """The code between two (line, UTF-8 column) positions, comments left out."""
    (l1, c1), (l2, c2) = start, end
    if not (0 < l1 <= l2 <= len(lines)):
        return ""
    chunks = [ln.encode("utf-8") for ln in lines[l1 - 1 : l2]]
    chunks[-1] = chunks[-1][:c2]
    chunks[0] = chunks[0][c1:]  # after the cut above, so one-line gaps come out right
    # Between two operands there are only operators, brackets and comments: no strings.
    return "\n".join(c.split(b"#", 1)[0].decode("utf-8", "replace") for c in chunks)


@dataclass
class Walker:
    """Walks one module once, filling ``ctx.metrics``/``functions``/``classes`` and findings."""

    ctx: FileContext
    node_checks: dict[type, list[tuple[Rule, NodeCheck]]] = field(default_factory=dict)
    function_checks: Sequence[tuple[Rule, FunctionCheck]] = ()
    halstead: HalsteadCounter = field(default_factory=HalsteadCounter)
    module_total: int = 0
    _block: _Block = field(default_factory=lambda: _Block("module"))
    _fn: _FunctionState | None = None
    _cc_on: bool = True
    _h_on: bool = True
    _h_context: str | None = None
    _scope: list[str] = field(default_factory=list)
    _elifs: set[int] = field(default_factory=set)
    _skip: frozenset[type] = _LEAF_TYPES
    _bool_continuations: set[int] = field(default_factory=set)

    def run(self, tree: ast.Module) -> None:
        """Walk the module; afterwards ``module_total`` is radon's ``total_complexity``."""
        self._handlers: dict[type, Callable[[ast.AST], None]] = {
            ast.FunctionDef: self._function,
            ast.AsyncFunctionDef: self._function,
            ast.ClassDef: self._class,
            ast.If: self._if,
            ast.For: self._loop,
            ast.AsyncFor: self._loop,
            ast.While: self._loop,
            ast.Try: self._try,
            ast.TryStar: self._try,
            ast.With: self._with,
            ast.AsyncWith: self._with,
            ast.Assert: self._assert,
            ast.BoolOp: self._boolop,
            ast.IfExp: self._ifexp,
            ast.comprehension: self._comprehension,
            ast.Match: self._match,
            ast.Lambda: self._lambda,
            ast.Call: self._call,
        }
        self._dispatch: dict[type, _Dispatch] = {}
        # Leaves that no check looks at are not even visited (a third of all nodes).
        self._skip = _LEAF_TYPES | {
            t
            for t, names in _CHILD_FIELDS.items()
            if names == ()
            and t not in self.node_checks
            and t not in _HALSTEAD_TYPES
            and t not in self._handlers
        }
        try:
            for stmt in tree.body:
                self.visit(stmt)
        finally:
            # The bound methods refer back to the walker: drop them so that no reference cycle
            # is left for the garbage collector (which is paused while files are analysed).
            self._handlers = {}
            self._dispatch = {}
        self.module_total += self._block.cc

    # -- traversal -------------------------------------------------------------------------

    def _entry(self, t: type) -> _Dispatch:
        """What :meth:`visit` does with a node of type ``t`` (computed once per type)."""
        names = _CHILD_FIELDS.get(t)
        if names is None:
            names = tuple(t._fields)  # type: ignore[attr-defined]
        entry = (self.node_checks.get(t) or None, t in _HALSTEAD_TYPES, self._handlers.get(t),
                 names)  # fmt: skip
        self._dispatch[t] = entry
        return entry

    def visit(self, node: ast.AST) -> None:
        """Run the node rules for ``node``, count it, then visit its children."""
        # One dictionary lookup per node for everything that depends on its type only: this
        # runs for every node of every file.
        entry = self._dispatch.get(type(node))
        if entry is None:
            entry = self._entry(type(node))
        checks, halstead, handler, names = entry
        if checks:
            ctx = self.ctx
            for rule, check in checks:
                hits = check(ctx, node)
                if hits:
                    ctx.add_all(rule, hits)
        if halstead and self._h_on:
            self.halstead.count(node, self._h_context)
        if handler is None and not names:
            return  # a leaf: nothing below it to visit
        parents = self.ctx.parents
        parents.append(node)
        if handler is None:
            self._children(node, names)
        else:
            handler(node)
        parents.pop()

    def generic(self, node: ast.AST) -> None:
        """Visit every child node (operator and context singletons excepted)."""
        entry = self._dispatch.get(type(node))
        if entry is None:
            entry = self._entry(type(node))
        self._children(node, entry[3])

    def _children(self, node: ast.AST, names: tuple[str, ...]) -> None:
        skip = self._skip
        visit = self.visit
        for name in names:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if type(item) not in skip and isinstance(item, ast.AST):
                        visit(item)
            elif type(value) not in skip and isinstance(value, ast.AST):
                visit(value)

    def _visit_all(self, nodes: Sequence[ast.AST]) -> None:
        for n in nodes:
            self.visit(n)

    def _nested(self, nodes: Sequence[ast.AST], *, nest: bool = True, depth: bool = True) -> None:
        """Visit ``nodes`` one cognitive nesting level (and one block depth) deeper."""
        fn = self._fn
        if fn is None:
            self._visit_all(nodes)
            return
        fn.nesting += nest
        fn.depth += depth
        if fn.depth > fn.metrics.max_nesting:
            fn.metrics.max_nesting = fn.depth
        self._visit_all(nodes)
        fn.nesting -= nest
        fn.depth -= depth

    def _cognitive(self, *, nesting: bool, count: int = 1) -> None:
        fn = self._fn
        if fn is not None:
            fn.metrics.cognitive += count * (1 + (fn.nesting if nesting else 0))
            if nesting:
                fn.metrics.cognitive_nested_increments += count

    # -- blocks ----------------------------------------------------------------------------

    def _function(self, node: ast.AST) -> None:
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        saved_cc, saved_h = self._cc_on, self._h_on
        # radon counts neither decision points nor Halstead operators in decorators, default
        # values or annotations; rules still look at them.
        self._cc_on = self._h_on = False
        self._visit_all(node.decorator_list)
        self.visit(node.args)
        if node.returns is not None:
            self.visit(node.returns)
        for extra in getattr(node, "type_params", ()):
            self.visit(extra)

        parent = self._block
        is_method = parent.kind == "class"
        qualname = ".".join((*self._scope, node.name))
        fm = FunctionMetrics(
            name=node.name,
            qualname=qualname,
            line=node.lineno,
            end_line=node.end_lineno or node.lineno,
            column=node.col_offset + 1,
            is_method=is_method,
            is_async=isinstance(node, ast.AsyncFunctionDef),
            decorated=bool(node.decorator_list),
        )
        self._count_parameters(node, fm, is_method)

        outer_fn, outer_h_context, outer_scope = self._fn, self._h_context, self.ctx.scope
        outer_function, outer_loops = self.ctx.function, self.ctx.loop_depth
        block = _Block("function", function=fm)
        self._block = block
        self._fn = _FunctionState(fm, node.name, is_method, node)
        self._cc_on = self._h_on = True
        self._h_context = node.name
        self._scope.append(node.name)
        self.ctx.scope, self.ctx.function, self.ctx.loop_depth = qualname, fm, 0

        self._visit_all(node.body)
        fm.cyclomatic = block.cc
        for rule, check in self.function_checks:
            hits = check(self.ctx, fm)
            if hits:
                self.ctx.add_all(rule, hits, scope=qualname)

        self._scope.pop()
        self.ctx.scope, self.ctx.function, self.ctx.loop_depth = (
            outer_scope,
            outer_function,
            outer_loops,
        )
        self._block, self._fn, self._h_context = parent, outer_fn, outer_h_context
        self._cc_on, self._h_on = saved_cc, saved_h
        self.ctx.functions.append(fm)

        if parent.kind == "class":
            parent.cc += fm.cyclomatic
            parent.methods += 1
        elif parent.kind == "module":
            self.module_total += fm.cyclomatic - 1
        if outer_fn is not None:
            # The nested function's increments count in the enclosing one, one level deeper
            # than the ``def`` itself (its body nests inside it), except for a decorator's
            # wrapper; a class in between resets the level.
            if parent.kind == "class":
                rebase = 0
            else:
                rebase = outer_fn.nesting + (not _is_wrapper(outer_fn.node, node))
            outer = outer_fn.metrics
            outer.cognitive += fm.cognitive + fm.cognitive_nested_increments * rebase
            outer.cognitive_nested_increments += fm.cognitive_nested_increments

    @staticmethod
    def _count_parameters(
        node: ast.FunctionDef | ast.AsyncFunctionDef, fm: FunctionMetrics, is_method: bool
    ) -> None:
        a = node.args
        params = [*a.posonlyargs, *a.args, *a.kwonlyargs]
        if a.vararg is not None:
            params.append(a.vararg)
        if a.kwarg is not None:
            params.append(a.kwarg)
        positional = a.posonlyargs or a.args
        if (
            is_method
            and positional
            and positional[0].arg in _SELF_NAMES
            and not any(
                isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list
            )
        ):
            params.remove(positional[0])
        fm.parameters = len(params)
        fm.annotated_parameters = sum(1 for p in params if p.annotation is not None)
        fm.has_return_annotation = node.returns is not None

    def _class(self, node: ast.AST) -> None:
        assert isinstance(node, ast.ClassDef)
        saved_cc = self._cc_on
        self._cc_on = False
        self._visit_all(node.decorator_list)
        self._visit_all(node.bases)
        self._visit_all(node.keywords)
        parent = self._block
        block = _Block("class")
        self._block = block
        self._cc_on = True
        qualname = ".".join((*self._scope, node.name))
        self._scope.append(node.name)
        outer_scope, outer_function = self.ctx.scope, self.ctx.function
        self.ctx.scope = qualname
        self._visit_all(node.body)
        self.ctx.scope, self.ctx.function = outer_scope, outer_function
        self._scope.pop()
        self._block = parent
        self._cc_on = saved_cc
        methods = block.methods
        shown = int(block.cc / methods) + (methods > 1) if methods else block.cc
        self.ctx.classes.append(
            ClassMetrics(
                name=node.name,
                qualname=qualname,
                line=node.lineno,
                end_line=node.end_lineno or node.lineno,
                cyclomatic=shown,
                total_cyclomatic=block.cc,
                methods=methods,
            )
        )
        if parent.kind == "module":
            self.module_total += block.cc - 1

    def _lambda(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Lambda)
        self.visit(node.args)
        self._nested([node.body], depth=False)

    # -- decisions -------------------------------------------------------------------------

    def _if(self, node: ast.AST) -> None:
        assert isinstance(node, ast.If)
        if self._cc_on:
            self._block.cc += 1
        is_elif = id(node) in self._elifs
        fn = self._fn
        if is_elif and fn is not None:
            # An ``elif`` sits at the level of the ``if`` it continues, not inside its ``else``.
            fn.nesting -= 1
            fn.depth -= 1
        self._cognitive(nesting=not is_elif)
        self.visit(node.test)
        self._nested(node.body)
        orelse = node.orelse
        if orelse:
            first = orelse[0]
            if (
                len(orelse) == 1
                and isinstance(first, ast.If)
                and first.col_offset == node.col_offset
                and first.lineno > node.lineno
            ):
                self._elifs.add(id(first))
            else:
                self._cognitive(nesting=False)
            self._nested(orelse)
        if is_elif and fn is not None:
            fn.nesting += 1
            fn.depth += 1

    def _loop(self, node: ast.AST) -> None:
        assert isinstance(node, ast.For | ast.AsyncFor | ast.While)
        if self._cc_on:
            self._block.cc += 1 + bool(node.orelse)
        self._cognitive(nesting=True)
        if isinstance(node, ast.While):
            self.visit(node.test)
        else:
            self.visit(node.target)
            self.visit(node.iter)
        self.ctx.loop_depth += 1
        self._nested(node.body)
        self.ctx.loop_depth -= 1
        if node.orelse:
            self._cognitive(nesting=False)  # a loop's ``else`` is a branch like an if's
            self._nested(node.orelse)

    def _try(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Try | ast.TryStar)
        # radon only knows ``Try``; ``try ... except*`` adds nothing to its figure.
        if self._cc_on and isinstance(node, ast.Try):
            self._block.cc += len(node.handlers) + bool(node.orelse)
        self._nested(node.body, nest=False)
        checks = self.node_checks.get(ast.ExceptHandler)
        for handler in node.handlers:
            self._cognitive(nesting=True)
            if checks:
                for rule, check in checks:
                    self.ctx.add_all(rule, check(self.ctx, handler))
            self.ctx.parents.append(handler)
            if handler.type is not None:
                self.visit(handler.type)
            self._nested(handler.body)
            self.ctx.parents.pop()
        if node.orelse:
            self._cognitive(nesting=False)  # ``try ... else``: a branch, nested like one
            self._nested(node.orelse)
        self._nested(node.finalbody, nest=False)

    def _with(self, node: ast.AST) -> None:
        assert isinstance(node, ast.With | ast.AsyncWith)
        self._visit_all(node.items)
        self._nested(node.body, nest=False)

    def _assert(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Assert)
        saved = self._cc_on
        if saved:
            self._block.cc += 1
        # radon does not look inside an assert for further decision points.
        self._cc_on = False
        self.generic(node)
        self._cc_on = saved

    def _boolop(self, node: ast.AST) -> None:
        assert isinstance(node, ast.BoolOp)
        if self._cc_on:
            self._block.cc += len(node.values) - 1
        if id(node) not in self._bool_continuations:
            ops: list[type] = []
            self._flatten_boolop(node, ops)
            changes = sum(1 for i, op in enumerate(ops) if i == 0 or op is not ops[i - 1])
            self._cognitive(nesting=False, count=changes)
        self._visit_all(node.values)

    def _flatten_boolop(self, node: ast.BoolOp, ops: list[type]) -> None:
        """The operators of ``node`` in source order, through unparenthesised operands."""
        op = type(node.op)
        for i, value in enumerate(node.values):
            if i:
                ops.append(op)
            if isinstance(value, ast.BoolOp) and not self._parenthesized(node, i):
                self._bool_continuations.add(id(value))
                self._flatten_boolop(value, ops)

    def _parenthesized(self, parent: ast.BoolOp, index: int) -> bool:
        """Whether the boolean operand ``parent.values[index]`` is written in parentheses."""
        child = parent.values[index]
        assert isinstance(child, ast.BoolOp)
        # The parser merges ``a and b and c`` into one node and binds ``and`` tighter than
        # ``or``: a like operator or an ``or`` under an ``and`` can only come from brackets.
        if type(child.op) is type(parent.op) or isinstance(child.op, ast.Or):
            return True
        if index == 0:
            start = (parent.lineno, parent.col_offset)
        else:
            before = parent.values[index - 1]
            start = (before.end_lineno or before.lineno, before.end_col_offset or 0)
        gap = _source_between(self.ctx.lines, start, (child.lineno, child.col_offset))
        return "(" in gap

    def _ifexp(self, node: ast.AST) -> None:
        assert isinstance(node, ast.IfExp)
        if self._cc_on:
            self._block.cc += 1
        self._cognitive(nesting=True)
        self._nested([node.test, node.body, node.orelse], depth=False)

    def _comprehension(self, node: ast.AST) -> None:
        assert isinstance(node, ast.comprehension)
        if self._cc_on:
            self._block.cc += len(node.ifs) + 1
        if node.ifs:
            # Each ``if`` clause is a condition like an ``if`` statement; the ``for`` itself is
            # shorthand for a loop and adds nothing.
            self._cognitive(nesting=True, count=len(node.ifs))
        self.generic(node)

    def _match(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Match)
        if self._cc_on:
            catch_all = any(
                isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None for c in node.cases
            )
            self._block.cc += max(0, len(node.cases) - catch_all)
        self._cognitive(nesting=True)
        self.visit(node.subject)
        self._nested(node.cases)

    def _call(self, node: ast.AST) -> None:
        assert isinstance(node, ast.Call)
        fn = self._fn
        if fn is not None and not fn.recursive:
            func = node.func
            if (isinstance(func, ast.Name) and func.id == fn.name and not fn.is_method) or (
                isinstance(func, ast.Attribute)
                and func.attr == fn.name
                and fn.is_method
                and isinstance(func.value, ast.Name)
                and func.value.id in _SELF_NAMES
            ):
                # The white paper counts each function in a recursion cycle once.
                fn.recursive = True
                fn.metrics.cognitive += 1
        # A call's children straight away: the most frequent handled node (one in six visits).
        self._children(node, _CALL_CHILDREN)
