"""Metrics: agreement with radon, SonarSource's cognitive complexity, properties."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from radon.complexity import add_inner_blocks, cc_visit
from radon.metrics import h_visit, mi_visit
from radon.raw import analyze as radon_raw
from radon.visitors import Function

from .conftest import analyze_code

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}


def _stdlib_sample(n: int, *, max_bytes: int = 60_000) -> list[Path]:
    files: list[Path] = []
    for directory, dirs, names in os.walk(STDLIB):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        files += [Path(directory) / f for f in sorted(names) if f.endswith(".py")]
    small = [f for f in files if f.stat().st_size <= max_bytes]
    step = max(1, len(small) // n)
    return small[::step][:n]


def _radon_blocks(code: str) -> dict[tuple[int, int], int]:
    return {
        (b.lineno, b.col_offset): b.complexity
        for b in add_inner_blocks(cc_visit(code))
        if isinstance(b, Function)
    }


def test_cyclomatic_agrees_with_radon_on_stdlib_sample() -> None:
    total = agree = 0
    class_total = class_agree = 0
    sample = _stdlib_sample(60)
    assert len(sample) == 60
    for path in sample:
        code = path.read_text(encoding="utf-8")
        report = analyze_code(code)
        mine = {(f.line, f.column - 1): f.cyclomatic for f in report.functions}
        for key, value in _radon_blocks(code).items():
            total += 1
            agree += mine.get(key) == value
        mine_classes = {c.line: c.cyclomatic for c in report.classes}
        for block in cc_visit(code):
            if not isinstance(block, Function):
                class_total += 1
                class_agree += mine_classes.get(block.lineno) == block.complexity
    assert total > 500
    assert agree / total >= 0.99, f"{agree}/{total} functions agree"
    assert class_agree == class_total


def test_raw_metrics_and_mi_agree_with_radon_on_stdlib_sample() -> None:
    for path in _stdlib_sample(25, max_bytes=15_000):
        code = path.read_text(encoding="utf-8")
        report = analyze_code(code)
        assert report.metrics is not None
        m = report.metrics
        expected = radon_raw(code)
        got = (m.raw.loc, m.raw.lloc, m.raw.sloc, m.raw.comments, m.raw.multi, m.raw.blank,
               m.raw.single_comments)  # fmt: skip
        assert got == tuple(expected), path
        assert abs(m.maintainability_index - mi_visit(code, True)) < 1e-6, path
        assert abs(m.halstead.volume - h_visit(code).total.volume) < 1e-6, path


def _fn(code: str, name: str) -> object:
    report = analyze_code(code)
    return next(f for f in report.functions if f.name == name)


def test_cognitive_complexity_whitepaper_examples() -> None:
    # SonarSource's sumOfPrimes (7 in Java, where `continue OUTER` adds 1; Python has no
    # labelled jumps, so 6) and getWords (a switch: 1).
    sum_of_primes = """
def sum_of_primes(limit):
    total = 0
    for i in range(1, limit):          # +1
        for j in range(2, i):          # +2 (nesting 1)
            if i % j == 0:             # +3 (nesting 2)
                break
        total += i
    return total
"""
    get_words = """
def get_words(number):
    match number:                      # +1
        case 1:
            return "one"
        case 2:
            return "a couple"
        case _:
            return "lots"
"""
    assert _fn(sum_of_primes, "sum_of_primes").cognitive == 6  # type: ignore[attr-defined]
    assert _fn(get_words, "get_words").cognitive == 1  # type: ignore[attr-defined]


def test_cognitive_complexity_increments() -> None:
    code = """
def f(a, b, c, d):
    if a and b and c:          # +1 if, +1 'and' sequence
        pass
    elif a or b and c:         # +1 elif, +1 'or', +1 'and'
        pass
    else:                      # +1 else
        pass
    try:
        pass
    except ValueError:         # +1
        x = 1 if a else 2      # +2 (ternary nested in except)
    def inner():               # nested function: +1 nesting for its content
        if d:                  # +2 here (+1 in inner's own figure)
            return f(a, b, c, d)   # recursion is charged to f? no: inner calls f
    return f(a, b, c, d)       # +1 recursion
"""
    report = analyze_code(code)
    f = next(fn for fn in report.functions if fn.name == "f")
    inner = next(fn for fn in report.functions if fn.name == "inner")
    assert inner.cognitive == 1
    assert f.cognitive == 1 + 1 + 1 + 2 + 1 + 1 + 2 + 2 + 1
    assert f.max_nesting == 1


def test_function_metrics_basics() -> None:
    code = '''
class Shape:
    def area(self, scale: float, *args, unit: str = "m", **kw) -> float:
        """Docstring."""
        for part in args:
            while part:
                if part > 3:
                    part -= 1
        return scale
'''
    report = analyze_code(code)
    (fn,) = report.functions
    assert (fn.qualname, fn.is_method, fn.line, fn.end_line) == ("Shape.area", True, 3, 9)
    assert (fn.parameters, fn.annotated_parameters, fn.has_return_annotation) == (4, 2, True)
    assert fn.max_nesting == 3
    assert fn.cyclomatic == 4
    assert report.metrics is not None
    assert report.metrics.type_coverage == 60.0  # 2 of 4 parameters + 1 of 1 return
    assert report.classes[0].methods == 1


# -- property tests ---------------------------------------------------------------------

_NAMES = st.sampled_from(["a", "b", "c", "d"])


def _cond() -> st.SearchStrategy[str]:
    atom = (
        _NAMES
        | st.builds(lambda n: f"not {n}", _NAMES)
        | st.builds(lambda n, m: f"{n} < {m}", _NAMES, _NAMES)
    )
    return st.recursive(
        atom,
        lambda inner: st.builds(lambda x, y, op: f"({x} {op} {y})", inner, inner,
                                st.sampled_from(["and", "or"]))
        | st.builds(lambda x, y, z: f"({x} if {y} else {z})", inner, inner, inner)
        | st.builds(lambda x, y: f"any({x} for a in b if {y})", inner, inner),
        max_leaves=4,
    )  # fmt: skip


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _block(depth: int) -> st.SearchStrategy[list[str]]:
    simple = (
        st.sampled_from([["pass"], ["a = b"], ["c += 1"], ["return d"]])
        | st.builds(lambda c: [f"x = {c}"], _cond())
        | st.builds(lambda c: [f"assert {c}"], _cond())
    )
    if depth == 0:
        return simple
    body = st.lists(_block(depth - 1), min_size=1, max_size=3).map(
        lambda parts: [line for p in parts for line in p]
    )

    def if_(c: str, b: list[str], elifs: list[tuple[str, list[str]]], e: list[str] | None):
        out = [f"if {c}:", *_indent(b)]
        for ec, eb in elifs:
            out += [f"elif {ec}:", *_indent(eb)]
        if e is not None:
            out += ["else:", *_indent(e)]
        return out

    compound = (
        st.builds(if_, _cond(), body, st.lists(st.tuples(_cond(), body), max_size=2),
                  st.none() | body)
        | st.builds(lambda b, e: ["for a in b:", *_indent(b),
                                  *(["else:", *_indent(e)] if e else [])], body, st.none() | body)
        | st.builds(lambda c, b: [f"while {c}:", *_indent(b)], _cond(), body)
        | st.builds(lambda b, h, e: ["try:", *_indent(b), "except ValueError:", *_indent(h),
                                     *(["else:", *_indent(e)] if e else [])],
                    body, body, st.none() | body)
        | st.builds(lambda b: ["with a as b:", *_indent(b)], body)
        | st.builds(lambda b: ["def inner(a, b):", *_indent(b)], body)
    )  # fmt: skip
    return simple | compound


_functions = st.lists(_block(3), min_size=1, max_size=4).map(
    lambda parts: "\n".join(["def f(a, b, c, d):", *_indent([x for p in parts for x in p])]) + "\n"
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_functions)
def test_cyclomatic_matches_radon_on_generated_code(code: str) -> None:
    report = analyze_code(code)
    mine = {(f.line, f.column - 1): f.cyclomatic for f in report.functions}
    assert mine == _radon_blocks(code)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_functions, st.integers(min_value=1, max_value=5))
def test_metrics_invariants(code: str, padding: int) -> None:
    report = analyze_code(code)
    assert report.metrics is not None
    raw = report.metrics.raw
    assert raw.loc == raw.sloc + raw.blank + raw.multi + raw.single_comments
    assert raw.loc == len(code.splitlines())
    assert 0.0 <= report.metrics.maintainability_index <= 100.0
    for fn in report.functions:
        assert fn.cyclomatic >= 1
        assert fn.cognitive >= 0
        assert fn.max_nesting <= 4
    # Unrelated lines above (comments, blanks) change positions only.
    shifted = analyze_code("# header\n" * padding + "\n" * padding + code)
    assert [(f.qualname, f.cyclomatic, f.cognitive, f.max_nesting) for f in report.functions] == [
        (f.qualname, f.cyclomatic, f.cognitive, f.max_nesting) for f in shifted.functions
    ]
    assert [f.line + 2 * padding for f in report.functions] == [f.line for f in shifted.functions]


def test_fast_and_portable_token_scans_agree() -> None:
    from pyforge.analysis.metrics import raw

    if raw._C_TOKENIZER is None:  # Python 3.12+: one implementation, nothing to compare
        assert raw.scan_tokens("x = 1\n").raw.sloc == 1
        return
    tricky = (
        "# c\n\nx = (1,  # in parens\n     # own line\n     2)  # trailing\n"
        "s = '# not a comment'  # pyforge: ignore[BUG104]\n"
        "d = '''doc # still string\n\n'''\nif x: y = 1; z = 2\n"
        "é = 'ü'  # noqa: E501\nt = x + \\\n    1\n"
    )
    samples = [tricky, *(p.read_text(encoding="utf-8") for p in _stdlib_sample(40))]
    for code in samples:
        fast, portable = raw._scan_c(code), raw._scan_py(code)
        assert fast.raw == portable.raw
        assert fast.suppressions == portable.suppressions
        assert fast.units == portable.units
        assert fast.private_names == portable.private_names


def test_bulk_and_statement_by_statement_counts_agree() -> None:
    """The C scan's counts from running totals (:func:`raw._c_bulk_counts`) are the
    statement-by-statement loop's, on odd layouts too; where the bulk count declines (no
    statement at all), the loop's result is the one used."""
    from pyforge.analysis.metrics import raw

    if raw._C_TOKENIZER is None:  # Python 3.12+: no C scan
        return
    odd = [
        'x = 1; y = 2\nif x: y = 3; z = {1: 2}\nd = {"a": 1}\n',
        '"""doc"""\n\n# alone\n"one"  # with a comment\n"""two\n\nlines"""\nx = 1\n',
        "def f(a: int) -> int:\n    return a\n\n\n# trailing\n\n",
        "t = x + \\\n    1\nlambda: 0\nfor a in b: pass\n",
        "x = 1",  # no newline at the end
        "# only comments\n\n# and blank lines\n",  # no statement: the loop counts the rows
        "s = 'é'  # noqa: E501\nclass A:\n    '''doc'''\n    b: int = 0\n",
    ]
    samples = odd + [p.read_text(encoding="utf-8") for p in _stdlib_sample(30)]
    samples += [s.replace("\n", "\r\n") for s in samples[:8]]
    bulk_used, declined = 0, []
    for code in samples:
        lines = raw._source_lines(code)
        toks = list(raw._C_TOKENIZER(code))
        types = [t[1] for t in toks]
        strs = [t[0] for t in toks]
        strings = [(t[2], t[4], t[3], t[5]) for t in toks if t[1] == raw._C_STRING]
        comments = raw._comment_rows(lines, strings)
        gaps = raw._CGaps(lines, comments)
        units = raw._c_count_statements(gaps, types, toks, strs, n_lines=len(lines),
                                        want_units=True)  # fmt: skip
        gaps.standalone(len(lines) + 1)
        bulk = raw._c_bulk_counts(lines, types, bytes(types), toks, strs, comments,
                                  want_units=True)  # fmt: skip
        if bulk is None:
            declined.append(code)
        else:
            bulk_used += 1
            assert bulk == (gaps.counts.raw(), units), code[:80]
        assert raw._scan_c(code) == raw._scan_py(code), code[:80]
    only_comments = "# only comments\n\n# and blank lines\n"
    assert declined == [only_comments, only_comments.replace("\n", "\r\n")]
    assert bulk_used == len(samples) - 2
