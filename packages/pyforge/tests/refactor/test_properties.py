"""Property tests: on generated functions built from the patterns the codemods rewrite, a fix
keeps the code parsing and keeps what the function returns.

The generated functions are the test's own code, so running them here is fine; the library
itself never executes what it analyses.
"""

from __future__ import annotations

import ast
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pyforge.refactor import fix_source, suggest

NAMES = st.sampled_from(["a", "b", "val", "items", "xs", "data", "n"])
OPS = st.sampled_from(["<", "<=", "==", "!=", "is", "is not", "in", "not in"])
TYPES = st.lists(st.sampled_from(["int", "str", "float", "list", "tuple", "bytes", "bool"]),
                 min_size=2, max_size=4)  # fmt: skip
INPUTS: list[Any] = [0, 1, -3, 2.5, "", "ab", [], [1, 2], (3,), b"x", True, None]


@st.composite
def bool_return(draw: st.DrawFn) -> str:
    op, inverted, with_else = draw(OPS), draw(st.booleans()), draw(st.booleans())
    right = "(1, 2)" if "in" in op.split() else "None" if "is" in op.split() else "1"
    first, second = ("False", "True") if inverted else ("True", "False")
    tail = f"    else:\n        return {second}\n" if with_else else f"    return {second}\n"
    return f"def f(x):\n    if x {op} {right}:\n        return {first}\n{tail}"


@st.composite
def isinstance_chain(draw: st.DrawFn) -> str:
    types = draw(TYPES)
    extra = draw(st.sampled_from(["", "x is None or ", "x == 7 or "]))
    chain = " or ".join(f"isinstance(x, {t})" for t in types)
    return f"def f(x):\n    return {extra}{chain}\n"


@st.composite
def append_loop(draw: st.DrawFn) -> str:
    name, var = draw(NAMES), draw(st.sampled_from(["v", "w", "item"]))
    cond = draw(st.sampled_from(["", f"if {var}:", f"if {var} != 2:"]))
    expr = draw(st.sampled_from([var, f"{var} * 2", f"({var}, {var})", f"str({var})"]))
    body = f"        {cond}\n            {name}.append({expr})\n" if cond else (
        f"        {name}.append({expr})\n")  # fmt: skip
    return f"def f(x):\n    {name} = []\n    for {var} in x:\n{body}    return {name}\n"


@st.composite
def index_loop(draw: st.DrawFn) -> str:
    seq = draw(st.sampled_from(["x", "values"]))
    use = draw(st.sampled_from([f"out.append({seq}[i])", f"out.append(({seq}[i], i))",
                                f"out += [{seq}[i], {seq}[i]]"]))  # fmt: skip
    alias = "    values = x\n" if seq == "values" else ""
    return f"def f(x):\n{alias}    out = []\n    for i in range(len({seq})):\n        {use}\n    return out, i if {seq} else None\n"


@st.composite
def guard(draw: st.DrawFn) -> str:
    test = draw(st.sampled_from(["x", "not x", "x and len(x) > 1", "x is not None", "x == 1"]))
    exit_ = draw(st.sampled_from(["return -1", "raise ValueError(x)"]))
    if draw(st.booleans()):
        return (f"def f(x):\n    if {test}:\n        for c in str(x):\n            pass\n"
                f"        return 1\n    else:\n        {exit_}\n")  # fmt: skip
    return (f"def f(x):\n    if {test}:\n        {exit_}\n    else:\n        y = 2\n"
            f"        if y:\n            y += 1\n        return y\n")  # fmt: skip


PROGRAMS = st.one_of(bool_return(), isinstance_chain(), append_loop(), index_loop(), guard())


def _outcomes(code: str, arg_sets: list[Any]) -> list[object]:
    namespace: dict[str, Any] = {}
    exec(compile(code, "<generated>", "exec"), namespace)  # the test's own generated code
    out: list[object] = []
    for arg in arg_sets:
        try:
            out.append(("ok", namespace["f"](arg)))
        except Exception as exc:  # the same error either way is the same behaviour
            out.append(("error", type(exc).__name__))
    return out


@settings(max_examples=150, deadline=None)
@given(PROGRAMS)
def test_fix_keeps_parsing_and_behaviour(code: str) -> None:
    result = fix_source(code)
    ast.parse(result.source)
    assert result.total > 0, code  # every generated program holds a fixable pattern
    assert _outcomes(result.source, INPUTS) == _outcomes(code, INPUTS)


@settings(max_examples=60, deadline=None)
@given(st.lists(PROGRAMS, min_size=2, max_size=4))
def test_fixes_compose_in_one_module(parts: list[str]) -> None:
    code = "\n\n".join(p.replace("def f(", f"def f{i}(", 1) for i, p in enumerate(parts))
    result = fix_source(code)
    ast.parse(result.source)
    assert fix_source(result.source).total == 0  # a fixed module has nothing left to fix
    assert all(s.line >= 1 for s in suggest(code))
