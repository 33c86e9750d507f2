"""Cognitive complexity, one test per rule of SonarSource's white paper (version 1.7).

Each test transcribes the white paper's own example (Java) to Python, with the paper's
increments as comments; where Python has no equivalent construct (labels, ``goto``, ``do``)
the test says so and checks the nearest Python form.
"""

from __future__ import annotations

import textwrap

from pyforge.analysis.metrics.model import FunctionMetrics

from .conftest import analyze_code


def _functions(code: str) -> dict[str, FunctionMetrics]:
    report = analyze_code(textwrap.dedent(code))
    return {f.qualname: f for f in report.functions}


def _cognitive(code: str, name: str) -> int:
    return _functions(code)[name].cognitive


# -- B1: increments for breaks in the linear flow ----------------------------------------------


def test_if_elif_else_each_increment_once() -> None:
    # White paper, "Increments": if, else if and else each add one; the else-if and else
    # add no nesting increment of their own.
    code = """
    def get_words(number):
        if number == 1:          # +1
            return "one"
        elif number == 2:        # +1
            return "a couple"
        elif number == 3:        # +1
            return "a few"
        else:                    # +1
            return "lots"
    """
    assert _cognitive(code, "get_words") == 4


def test_switch_is_one_increment_match_and_cases() -> None:
    # White paper getWords (switch, Cognitive Complexity 1): ``match`` is Python's switch; it
    # counts once however many cases it has.
    code = """
    def get_words(number):
        match number:            # +1
            case 1:
                return "one"
            case 2:
                return "a couple"
            case 3:
                return "a few"
            case _:
                return "lots"
    """
    assert _cognitive(code, "get_words") == 1


def test_loops_increment_and_jumps_without_labels_do_not() -> None:
    # White paper sumOfPrimes: 7 in Java, of which 1 is ``continue OUTER``. Python has no
    # labelled jumps, so the transcription (a flag and a plain ``break``) totals 6.
    code = """
    def sum_of_primes(maximum):
        total = 0
        for i in range(1, maximum + 1):      # +1
            for j in range(2, i):            # +2 (nesting = 1)
                if i % j == 0:               # +3 (nesting = 2)
                    break                    # no label: +0
            else:                            # +1 (for ... else is a branch)
                total += i
        return total
    """
    assert _cognitive(code, "sum_of_primes") == 7


def test_while_and_loop_else() -> None:
    code = """
    def drain(queue, done):
        while queue:                         # +1
            if done(queue.pop()):            # +2 (nesting = 1)
                continue                     # +0
        else:                                # +1
            return True
    """
    assert _cognitive(code, "drain") == 4


def test_try_does_not_increment_each_except_does() -> None:
    # White paper: "catch" increments (and nests); try and finally do not.
    code = """
    def read(path):
        try:                                 # +0
            if path:                         # +1 (a try body is not nested)
                return open(path).read()
        except FileNotFoundError:            # +1
            return ""
        except (PermissionError, OSError):   # +1
            if path.startswith("/"):         # +2 (nesting = 1)
                raise
        else:                                # +1
            return None
        finally:                             # +0
            if path:                         # +1 (not nested)
                pass
    """
    assert _cognitive(code, "read") == 7


def test_sequences_of_like_boolean_operators() -> None:
    # White paper, "Sequences of logical operators": one increment per sequence of like
    # operators, whatever its length.
    code = """
    def f(a, b, c, d):
        x = a and b                          # +1
        y = a and b and c and d              # +1
        z = a or b                           # +1
        w = a or b or c or d                 # +1
    """
    assert _cognitive(code, "f") == 4


def test_mixed_boolean_operators_increment_at_each_change() -> None:
    # White paper: ``if (a && b && c || d || e && f)``: +1 if, +1 &&, +1 ||, +1 &&.
    code = """
    def f(a, b, c, d, e, g):
        if (a                                # +1 for if
                and b and c                  # +1
                or d or e                    # +1
                and g):                      # +1
            pass
    """
    assert _cognitive(code, "f") == 4
    # ``a or b and c or d`` reads or, and, or: three sequences, although Python's tree
    # groups ``b and c`` inside one ``or``.
    assert _cognitive("def g(a, b, c, d):\n    return a or b and c or d\n", "g") == 3


def test_negated_or_parenthesised_group_starts_a_new_sequence() -> None:
    # White paper: ``if (a && !(b && c))``: +1 if, +1 &&, +1 && (the negated group).
    code = """
    def f(a, b, c):
        if a and not (b and c):              # +1 if, +1 and, +1 and
            pass
    """
    assert _cognitive(code, "f") == 3
    # Brackets alone separate sequences too.
    assert _cognitive("def g(a, b, c):\n    return a and (b and c)\n", "g") == 2
    assert _cognitive("def h(a, b, c, d):\n    return a or (b and c) or d\n", "h") == 2
    assert _cognitive("def k(a, b, c, d):\n    return (a or b) and (c or d)\n", "k") == 3


def test_recursion_increments_once_per_function() -> None:
    # White paper: "each method in a recursion cycle" adds one, however many calls it makes.
    code = """
    def fib(n):
        if n < 2:                            # +1
            return n
        return fib(n - 1) + fib(n - 2)       # +1 (recursion, once)

    class Tree:
        def size(self):
            return 1 + sum(c.size() for c in self.children) + self.size_of_rest()

        def depth(self, node):
            return self.depth(node.parent) if node.parent else 0   # +1 ternary, +1 recursion
    """
    functions = _functions(code)
    assert functions["fib"].cognitive == 2
    assert functions["Tree.size"].cognitive == 0  # c.size() is another object's method
    assert functions["Tree.depth"].cognitive == 2


# -- B2 and B3: nesting --------------------------------------------------------------------------


def test_nesting_increments_white_paper_example() -> None:
    # White paper, "Nesting increments" (myMethod, Cognitive Complexity 9).
    code = """
    def my_method(condition1, condition2):
        try:
            if condition1:                           # +1
                for i in range(10):                  # +2 (nesting = 1)
                    while condition2:                # +3 (nesting = 2)
                        pass
        except (ExcepType1, ExcepType2) as e:        # +1
            if condition2:                           # +2 (nesting = 1)
                pass
    """
    assert _cognitive(code, "my_method") == 9


def test_nested_functions_and_lambdas_add_nesting_only() -> None:
    # White paper myMethod2: the lambda adds no increment but one level of nesting, so the
    # ``if`` inside it costs 2. A Python lambda holds an expression, so the ``if`` becomes a
    # conditional expression; a nested ``def`` behaves the same way.
    code = """
    def my_method2(condition1):
        r = lambda: 1 if condition1 else 0           # +0 (nesting 1), +2 (nesting = 1)
        return r

    def with_def(condition1):
        setup()
        def r():                                     # +0 (but nesting level is now 1)
            if condition1:                           # +2 (nesting = 1)
                return 1
        return r
    """
    functions = _functions(code)
    assert functions["my_method2"].cognitive == 2
    assert functions["with_def"].cognitive == 2
    assert functions["with_def.r"].cognitive == 1  # on its own, at nesting 0


def test_decorator_wrapper_and_class_do_not_add_nesting() -> None:
    # SonarSource's Python analyzer: a wrapper whose enclosing function only returns it is not
    # nested; a class resets the level of its methods.
    code = """
    def decorator(func):
        def wrapper(*args):
            if args:                                 # +1 (wrapper: no extra level)
                print("before")
            return func(*args)
        return wrapper

    def factory(b):
        class A:
            def m(self, b):
                return 1 if b else 2                 # +1 (class resets the level)
        return A if b else None                      # +1
    """
    functions = _functions(code)
    assert functions["decorator"].cognitive == 1
    assert functions["factory"].cognitive == 2


def test_conditional_expressions_increment_and_nest() -> None:
    code = """
    def f(c1, c2, a, b, c):
        x = a if c1 else (b if c2 else c)            # +1, +2 (nesting = 1)
        y = (a if c1 else b) if c2 else c            # +1, +2 (nesting = 1)
    """
    assert _cognitive(code, "f") == 6


def test_comprehension_if_clauses_increment() -> None:
    code = """
    def evens(rows):
        total = [x for x in rows]                    # +0: shorthand for a loop
        kept = [x for x in rows if x % 2 if x]       # +1 per if clause
        for row in rows:                             # +1
            kept += [y for y in row if y]            # +2 (nesting = 1)
    """
    assert _cognitive(code, "evens") == 5


def test_white_paper_appendix_to_regexp() -> None:
    # White paper, Appendix C (``toRegexp`` from SonarQube, total complexity 20).
    code = """
    def to_regexp(ant_pattern, directory_separator):
        escaped = "\\\\" + directory_separator
        sb = ["^"]
        i = 1 if ant_pattern.startswith("/") or ant_pattern.startswith("\\\\") else 0  # +1 +1
        while i < len(ant_pattern):                                          # +1
            ch = ant_pattern[i]
            if ch in SPECIAL_CHARS:                                          # +2 (nesting 1)
                sb.append("\\\\" + ch)
            elif ch == "*":                                                  # +1
                if i + 1 < len(ant_pattern) and ant_pattern[i + 1] == "*":   # +3 (nesting 2) +1
                    if i + 2 < len(ant_pattern) and is_slash(ant_pattern[i + 2]):  # +4 +1
                        sb.append("(?:.*" + escaped + "|)")
                        i += 2
                    else:                                                    # +1
                        sb.append(".*")
                        i += 1
                else:                                                        # +1
                    sb.append("[^" + escaped + "]*?")
            elif ch == "?":                                                  # +1
                sb.append("[^" + escaped + "]")
            elif is_slash(ch):                                               # +1
                sb.append(escaped)
            else:                                                            # +1
                sb.append(ch)
            i += 1
        sb.append("$")
        return "".join(sb)
    """
    assert _cognitive(code, "to_regexp") == 20


def test_shorthand_and_straight_code_cost_nothing() -> None:
    # White paper, "Ignore shorthand": method extraction and null-coalescing-like idioms.
    code = """
    def f(a, b):
        value = a.get("x") or None if False else None
        return compute(a, b)

    def g(a):
        with open(a) as fh:
            return fh.read()
    """
    functions = _functions(code)
    assert functions["g"].cognitive == 0
    assert functions["f"].cognitive == 2  # the ternary +1 and its 'or' sequence +1
