"""Findings a maintainer trusts: ruff's noqa codes, framework idioms, test code kept apart."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from pyforge.analysis.config import DEFAULT_TEST_PATHS, config_from_table
from pyforge.analysis.registry import RULE_ALIASES, get_registry

from .conftest import analyze_code, analyze_dir


def _rules(code: str) -> list[tuple[str, int]]:
    report = analyze_code(textwrap.dedent(code).lstrip())
    return [(f.rule, f.line) for f in report.findings]


def test_noqa_with_the_duplicated_ruff_code_silences_the_own_rule() -> None:
    code = """
    def f(x=[]):  # noqa: B006
        return x


    def g(y={}):
        return y == None  # noqa: E711
    """
    found = _rules(code)
    assert ("BUG101", 1) not in found
    assert ("BUG101", 5) in found  # no noqa there
    assert not any(rule == "BUG104" for rule, _ in found)


def test_noqa_for_an_unrelated_code_does_not_silence() -> None:
    found = _rules("def f(x=[]):  # noqa: E501\n    return x\n")
    assert ("BUG101", 1) in found


def test_duplicated_rules_name_their_ruff_codes() -> None:
    registry = get_registry()
    assert RULE_ALIASES["BUG101"] == ("B006",)
    rule = registry.rule("BUG104")
    assert rule is not None
    assert rule.aliases == ("E711",)
    assert rule.to_dict()["aliases"] == ["E711"]


def test_framework_idioms_are_not_bugs() -> None:
    code = """
    from dataclasses import dataclass, field
    from typing import Annotated

    from fastapi import Depends, FastAPI, Header, Query
    from pydantic import BaseModel, Field

    app = FastAPI()


    @app.get("/items")
    def items(
        q: list[str] = Query([]),
        token: str = Header(None),
        db: object = Depends(get_db),
        tags: Annotated[list[str], Query()] = [],
        body: Annotated[dict[str, str], Depends(parse)] = {},
    ) -> list[str]:
        return q


    class Model(BaseModel):
        tags: list[str] = Field(default_factory=list)


    @dataclass
    class D:
        tags: list[str] = field(default_factory=list)


    def plain(tags: Annotated[list[str], "doc"] = []) -> list[str]:
        return tags
    """
    found = _rules(code)
    # Only the plain function's default is reported.
    assert [r for r in found if r[0].startswith("BUG")] == [("BUG101", 30)]


def test_test_files_are_recognised_by_pytest_conventions() -> None:
    config = config_from_table({}, root=Path("."))
    assert config.tests == DEFAULT_TEST_PATHS
    for path in ("tests/test_app.py", "pkg/tests/helpers.py", "test_x.py", "x_test.py",
                 "src/conftest.py", "test/data.py"):  # fmt: skip
        assert config.settings_for(path).test, path
    for path in ("src/app.py", "src/testing_utils.py", "contest.py", "src/attest.py"):
        assert not config.settings_for(path).test, path
    custom = config_from_table({"tests": ["checks/"]}, root=Path("."))
    assert custom.settings_for("checks/a.py").test
    assert not custom.settings_for("tests/test_a.py").test


PROD = """\
def check(password: str) -> None:
    assert password
    login(password="hunter2")
    token = "s3cr3t"


def login(password: str) -> None:
    if password and len(password) > 3:
        print(password)
"""
TEST = """\
def test_login() -> None:
    password = "hunter2"
    assert password
    login(password="secret")
    for i in range(3):
        if i and password:
            assert i


def login(password: str) -> None:
    print(password)
"""


def test_security_rules_for_test_idioms_are_off_in_test_files(
    write_tree: Callable[[dict[str, str | bytes]], Path],
) -> None:
    root = write_tree({"src/app.py": PROD, "tests/test_app.py": TEST})
    report = analyze_dir(root, {"select": ["SEC"]})
    by_path = {(f.path, f.rule) for f in report.findings}
    assert ("src/app.py", "SEC-S101") in by_path
    assert ("src/app.py", "SEC-S106") in by_path
    assert not any(path.startswith("tests/") for path, _ in by_path)
    # A project that wants them back says so.
    strict = analyze_dir(root, {"select": ["SEC"], "tests_ignore": []})
    tests_rules = {f.rule for f in strict.findings if f.path.startswith("tests/")}
    assert {"SEC-S101", "SEC-S105", "SEC-S106"} <= tests_rules


def test_test_code_is_counted_apart_in_metrics(
    write_tree: Callable[[dict[str, str | bytes]], Path],
) -> None:
    root = write_tree({"src/app.py": PROD, "tests/test_app.py": TEST})
    report = analyze_dir(root, {"disable": ["style", "security", "mypy"]})
    files = {f.path: f for f in report.files}
    assert files["tests/test_app.py"].test
    assert not files["src/app.py"].test
    assert files["tests/test_app.py"].to_dict()["test"] is True
    summary = report.summary()
    assert summary["files"] == 2
    assert summary["functions"] == 2  # check, login in src
    assert summary["loc"] == PROD.count("\n")
    assert summary["tests"]["files"] == 1
    assert summary["tests"]["functions"] == 2
    assert summary["tests"]["loc"] == TEST.count("\n")
    # test_login's loop is the most complex function, but it is test code.
    assert summary["cognitive"]["max"] == 2
    assert summary["tests"]["cognitive"]["max"] > summary["cognitive"]["max"]
    assert [fn.name for fn in report.production_functions] == ["check", "login"]


def test_rules_under_80_percent_precision_are_off_unless_selected() -> None:
    registry = get_registry()
    off = {r.id for r in registry.all_rules() if not r.default_enabled}
    assert off == {"BUG106", "MNT301", "PRF101", "PRF102", "PRF103"}
    for rule_id in off:
        rule = registry.rule(rule_id)
        assert rule is not None
        assert "Off by default" in rule.help, rule_id
    code = "def f(list) -> str:\n    s = ''\n    for x in list:\n        s += 'a'\n    return s\n"
    assert [r for r in _rules(code) if r[0] != "TYP101"] == []
    selected = analyze_code(code, {"select": ["ALL", "BUG106", "PRF101"]})
    assert sorted(f.rule for f in selected.findings if f.rule != "TYP101") == ["BUG106", "PRF101"]


def test_bare_except_that_reraises_is_cleanup_not_a_bug() -> None:
    code = """
    def f(conn):
        try:
            conn.commit()
        except:
            conn.rollback()
            raise
        try:
            return int(conn)
        except:
            return None
    """
    assert [r for r in _rules(code) if r[0] == "BUG103"] == [("BUG103", 9)]


def test_len_comparison_used_as_a_value_suggests_bool() -> None:
    code = "def f(x):\n    if len(x) > 0:\n        pass\n    has = len(x) > 0\n    return has\n"
    report = analyze_code(code)
    fixes = {f.line: f.fix for f in report.findings if f.rule == "PRF104"}
    assert fixes == {2: "x", 4: "bool(x)"}


def test_long_docstrings_and_stub_files_are_not_complexity() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(5))
    doc = '    """' + "\n".join(["Doc."] * 10) + '"""'
    code = f"def f():\n{doc}\n{body}\n"
    limits = {"thresholds": {"function_length": 8, "parameters": 2}}
    assert _rules_with(code, limits) == []
    assert ("CPX105", 1) in _rules_with(f"def f():\n{body}\n{body}\n", limits)
    stub = "def g(a, b, c, d): ...\n"
    assert ("CPX104", 1) in _rules_with(stub, limits)
    assert _rules_with(stub, limits, path="api.pyi") == []


def _rules_with(code: str, table: dict[str, object], path: str = "m.py") -> list[tuple[str, int]]:
    report = analyze_code(code, {**table, "select": ["CPX"]}, path=path)
    return [(f.rule, f.line) for f in report.findings]


def test_private_names_in_strings_and_fstrings_count_as_uses() -> None:
    from pyforge.analysis.metrics.raw import scan_tokens

    code = (
        "def _eof():\n    return 'x'\n\n"
        "print(f'Type {_eof()} to stop')\n"
        "CODE = 'runtime._decorate(%s)'\n"
    )
    names = scan_tokens(code).private_names
    assert names["_eof"] == 2
    assert names["_decorate"] == 1


def test_default_test_patterns_match_like_their_gitignore_form() -> None:
    import pathspec

    from pyforge.analysis.config import _default_test_path

    spec = pathspec.GitIgnoreSpec.from_lines(DEFAULT_TEST_PATHS)
    paths = ["a.py", "test_a.py", "a_test.py", "conftest.py", "tests/a.py", "test/a.py",
             "src/tests/x/y.py", "src/test_a/b.py", "testing/a.py", "atest.py", "test.py",
             "tests.py", "pkg/conftest.py", "pkg/mytests/a.py", "test_a.pyi", "a/test/b/c.py"]  # fmt: skip
    for path in paths:
        assert _default_test_path(path) == spec.match_file(path), path
