"""Each suggestion kind: where it fires (and its fix), where it must not, and what it keeps."""

from __future__ import annotations

import ast
import textwrap

import pytest

from pyforge.refactor import FIXABLE_RULES, RULES, RefactorError, fix_source, suggest


def _src(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def _rules(code: str) -> list[str]:
    return [s.rule for s in suggest(_src(code), "m.py")]


def _fixed(code: str, rule: str | None = None) -> str:
    result = fix_source(_src(code), "m.py", None if rule is None else [rule])
    ast.parse(result.source)
    return result.source


def _fixes(code: str, rule: str) -> int:
    return fix_source(_src(code), "m.py", [rule]).counts[rule]


# -- REF106 simplified boolean return ---------------------------------------------------------


def test_boolean_return_if_else_becomes_bool_of_condition() -> None:
    code = """
    def f(x):
        if x > 3:
            return True
        else:
            return False
    """
    assert _fixed(code, "REF106") == _src("""
    def f(x):
        return bool(x > 3)
    """)
    [s] = suggest(_src(code), "m.py")
    assert (s.rule, s.line, s.column, s.end_line, s.safe, s.fix) == ("REF106", 2, 5, 5, True, True)
    assert s.before.startswith("if x > 3:") and s.after == "return bool(x > 3)"


def test_boolean_return_followed_by_return_and_inverted() -> None:
    code = """
    def f(x):
        # keep me
        if x is None:
            return False
        return True
    """
    assert _fixed(code) == _src("""
    def f(x):
        # keep me
        return x is not None
    """)


def test_boolean_return_not_when_branches_agree_or_bool_is_shadowed() -> None:
    same = """
    def f(x):
        if x:
            return True
        return True
    """
    assert "REF106" not in _rules(same)
    shadowed = """
    bool = int
    def f(x):
        if x:
            return True
        return False
    """
    [s] = [s for s in suggest(_src(shadowed), "m.py") if s.rule == "REF106"]
    assert not s.safe and not s.fix
    assert _fixes(shadowed, "REF106") == 0


# -- REF107 merged isinstance ---------------------------------------------------------------


def test_isinstance_chain_merges_keeping_other_operands() -> None:
    code = """
    import os
    def f(x, y):
        return y or isinstance(x, int) or isinstance(x, (float, os.PathLike)) or isinstance(y, str)
    """
    assert "isinstance(x, (int, float, os.PathLike)) or isinstance(y, str)" in _fixed(code)


def test_isinstance_not_merged_for_different_subjects_unknown_types_or_and() -> None:
    assert "REF107" not in _rules(
        "def f(x, y):\n    return isinstance(x, int) or isinstance(y, int)\n"
    )
    assert "REF107" not in _rules(
        "def f(x):\n    return isinstance(x, int) and isinstance(x, str)\n"
    )
    # ``unicode`` is bound nowhere: evaluating it unconditionally could raise NameError.
    code = "def f(x):\n    return isinstance(x, str) or isinstance(x, unicode)\n"
    [s] = suggest(code, "m.py")
    assert s.rule == "REF107" and not s.safe
    assert fix_source(code).total == 0


# -- REF103 append loop ---------------------------------------------------------------------


def test_append_loop_with_if_becomes_comprehension() -> None:
    code = """
    def f(items):
        out = []  # result
        for item in items:
            if item > 0:
                out.append(item * 2)
        return out
    """
    assert _fixed(code, "REF103") == _src("""
    def f(items):
        out = [item * 2 for item in items if item > 0]  # result
        return out
    """)


@pytest.mark.parametrize(
    "body",
    [
        # a break: the loop may stop early
        "for x in xs:\n        if x:\n            break\n        out.append(x)",
        # something else happens in the loop
        "for x in xs:\n        out.append(x)\n        print(x)",
        # the loop variable is used after the loop (a comprehension would not bind it)
        "for x in xs:\n        out.append(x)\n    print(x)",
        # the list is read while it is built
        "for x in xs:\n        out.append(len(out))",
        # an else clause
        "for x in xs:\n        out.append(x)\n    else:\n        out.append(0)",
        # an if with an else
        "for x in xs:\n        if x:\n            out.append(x)\n        else:\n            pass",
    ],
)
def test_append_loop_not_rewritten(body: str) -> None:
    code = f"def f(xs):\n    out = []\n    {body}\n    return out\n"
    assert fix_source(code, rules=["REF103"]).total == 0


def test_append_loop_not_rewritten_in_class_body_or_try() -> None:
    in_class = (
        "class C:\n    K = 2\n    out = []\n    for x in range(3):\n        out.append(x * K)\n"
    )
    assert fix_source(in_class).total == 0
    in_try = _src("""
    def f(xs):
        try:
            out = []
            for x in xs:
                out.append(int(x))
        except ValueError:
            pass
    """)
    assert fix_source(in_try).total == 0


def test_append_loop_parenthesises_a_conditional_iterable() -> None:
    code = "def f(a, b, c):\n    r = []\n    for x in a if c else b:\n        r.append(x)\n    return r\n"
    assert "r = [x for x in (a if c else b)]" in _fixed(code)


# -- REF104/REF105 index loops --------------------------------------------------------------


def test_range_len_becomes_enumerate_and_suggests_zip() -> None:
    code = """
    def f(values, weights):
        total = 0
        for i in range(len(values)):
            total += values[i] * weights[i] + i
        return total
    """
    assert _fixed(code, "REF104") == _src("""
    def f(values, weights):
        total = 0
        for i, value in enumerate(values):
            total += value * weights[i] + i
        return total
    """)
    zips = [s for s in suggest(_src(code), "m.py") if s.rule == "REF105"]
    assert len(zips) == 1 and "zip(values, weights)" in zips[0].message and not zips[0].fix


@pytest.mark.parametrize(
    "body",
    [
        "xs[i] = 0",  # written
        "xs[i] += 1",  # written
        "xs.append(i)",  # the sequence changes while the loop runs
        "i = 0\n        print(xs[i])",  # the index is rebound
        "del xs[i]",
    ],
)
def test_range_len_not_rewritten_when_not_only_read(body: str) -> None:
    code = f"def f(xs):\n    for i in range(len(xs)):\n        print(xs[i])\n        {body}\n"
    assert fix_source(code, rules=["REF104"]).total == 0
    assert [s.rule for s in suggest(code) if s.rule == "REF104"]  # still suggested, unsafe


def test_range_len_item_name_does_not_collide() -> None:
    code = "def f(item, values):\n    value = 1\n    for i in range(len(values)):\n        print(values[i], item, value)\n"
    fixed = _fixed(code)
    assert "for i, values_item in enumerate(values):" in fixed


# -- REF102 guard clauses --------------------------------------------------------------------


def test_guard_clause_when_else_raises() -> None:
    code = """
    def f(v):
        if v:
            for a in v:
                print(a)
            print("done")
        else:
            raise ValueError("empty")
    """
    assert _fixed(code, "REF102") == _src("""
    def f(v):
        if not v:
            raise ValueError("empty")
        for a in v:
            print(a)
        print("done")
    """)


def test_guard_clause_when_if_returns_drops_else() -> None:
    code = """
    def f(v):
        if v is None:
            return 0
        else:
            # count them
            for a in v:
                print(a)
            return len(v)
    """
    assert _fixed(code, "REF102") == _src("""
    def f(v):
        if v is None:
            return 0
        # count them
        for a in v:
            print(a)
        return len(v)
    """)


def test_guard_clause_negates_boolean_operations_with_parentheses() -> None:
    code = "def f(a, b):\n    if a and b:\n        for x in a:\n            print(x)\n    else:\n        return None\n"
    assert "if not (a and b):\n        return None\n" in _fixed(code)


def test_no_guard_clause_for_flat_if_else_or_elif() -> None:
    flat = "def f(v):\n    if v:\n        print(v)\n    else:\n        return 1\n"
    assert "REF102" not in _rules(flat)
    elif_ = "def f(v):\n    if v:\n        for a in v:\n            print(a)\n    elif v is None:\n        return 1\n    else:\n        return 2\n"
    assert fix_source(elif_, rules=["REF102"]).total == 0


def test_guard_clause_with_comment_on_else_is_not_fixed() -> None:
    code = "def f(v):\n    if v:\n        for a in v:\n            print(a)\n    else:  # why\n        return 1\n"
    [s] = [s for s in suggest(code) if s.rule == "REF102"]
    assert s.safe  # the else header comment moves with its block
    code = "def f(v):\n    if v:  # why\n        for a in v:\n            print(a)\n    else:\n        return 1\n"
    [s] = [s for s in suggest(code) if s.rule == "REF102"]
    assert not s.safe and fix_source(code).total == 0


# -- REF101 extract method, REF108 and the engine's hints ------------------------------------


def test_extract_method_finds_a_cohesive_block() -> None:
    setup = "\n".join(f"    a{i} = data[{i}]" for i in range(10))
    block = "\n".join(f"    total = total + w * {i}" for i in range(8))
    tail = "\n".join(f"    print(a{i})" for i in range(10))
    code = f"def long(data, w):\n{setup}\n    total = 0\n{block}\n{tail}\n    return total\n"
    found = [s for s in suggest(code) if s.rule == "REF101"]
    assert found and not found[0].fix
    assert "def _long_part(" in found[0].after
    short = "def short(x):\n    y = x + 1\n    return y\n"
    assert "REF101" not in _rules(short)


def test_list_membership_in_loop_comes_from_the_engine() -> None:
    code = "def f(xs):\n    for x in xs:\n        if x in [1, 2, 3]:\n            print(x)\n"
    [s] = [s for s in suggest(code) if s.rule == "REF108"]
    assert (s.line, s.column, s.before, s.after) == (3, 17, "[1, 2, 3]", "{1, 2, 3}")
    assert "REF108" not in _rules("def f(x):\n    return x in [1, 2]\n")  # not in a loop


def test_engine_performance_hints_are_included() -> None:
    code = "def f(xs):\n    if len(xs) == 0:\n        return 1\n    return 2\n"
    [s] = [s for s in suggest(code) if s.rule == "PRF104"]
    assert s.after == "not xs" and not s.fix


# -- the API as a whole ----------------------------------------------------------------------


def test_syntax_error_and_unknown_rule_raise_refactor_error() -> None:
    with pytest.raises(RefactorError, match="m.py:1"):
        suggest("def (:\n", "m.py")
    with pytest.raises(RefactorError, match="unknown rule"):
        fix_source("x = 1\n", rules=["REF999"])


def test_rules_filter_and_table() -> None:
    code = "def f(x):\n    if x:\n        return True\n    return False\n"
    assert _rules(code) == ["REF106"]
    assert suggest(code, rules=["REF107"]) == []
    assert set(FIXABLE_RULES) == {"REF102", "REF103", "REF104", "REF106", "REF107"}
    assert len({r.id for r in RULES}) == len(RULES)
    assert suggest(code)[0].to_dict()["name"] == "simplify-boolean-return"


def test_comments_and_formatting_elsewhere_are_kept() -> None:
    code = _src("""
    # header comment
    import os  # why os


    def f(x):   # odd spacing kept
        '''Doc.'''
        if x:
            return True
        return False
    """)
    fixed = fix_source(code).source
    assert fixed.splitlines()[:6] == code.splitlines()[:6]
    assert "return bool(x)" in fixed


def test_crlf_newlines_survive() -> None:
    code = "def f(x):\r\n    if x:\r\n        return True\r\n    return False\r\n"
    assert fix_source(code).source == "def f(x):\r\n    return bool(x)\r\n"


def test_boolean_return_with_comment_between_is_not_fixed() -> None:
    code = "def f(x):\n    if x:\n        return True\n    # otherwise\n    return False\n"
    [s] = suggest(code)
    assert s.rule == "REF106" and not s.safe
    assert fix_source(code).source == code


def test_too_deep_input_is_a_refactor_error_not_a_crash() -> None:
    deep = "y = " + "-" * 20_000 + "1\n"
    with pytest.raises(RefactorError, match="m.py"):
        suggest(deep, "m.py")
    with pytest.raises(RefactorError, match="m.py"):
        fix_source(deep, "m.py")


def test_append_loop_keeps_boolean_conditions_and_parenthesises_tuples() -> None:
    code = "def f(a, b):\n    r = []\n    for x in a, b:\n        if x and not x.y:\n            r.append(x)\n    return r\n"
    assert "    r = [x for x in (a, b) if x and not x.y]\n" in _fixed(code)


def test_boolean_return_of_a_bool_valued_call_needs_no_bool() -> None:
    code = "bool = 1\ndef f(x):\n    if isinstance(x, int):\n        return True\n    return False\n"
    assert "    return isinstance(x, int)\n" in fix_source(code).source
