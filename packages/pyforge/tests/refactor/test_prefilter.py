"""The ast prefilter may only skip files in which the codemods find nothing."""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper

from pyforge.refactor import codemods
from pyforge.refactor.prefilter import may_match

STDLIB = Path(sysconfig.get_paths()["stdlib"])


def _changes(source: str, tree: ast.Module) -> list[codemods.Change]:
    wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    refactorer = codemods.Refactorer(
        wrapper.module, codemods.module_facts(tree), frozenset(), apply=False
    )
    wrapper.visit(refactorer)
    return refactorer.changes


def test_prefilter_never_hides_a_match() -> None:
    files = [*sorted(STDLIB.glob("*.py"))[:80], *sorted((STDLIB / "email").glob("*.py"))]
    skipped = 0
    for path in files:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        if may_match(tree):
            continue
        skipped += 1
        assert _changes(source, tree) == [], path
    assert skipped > 20  # the filter does skip files


def test_prefilter_sees_each_pattern() -> None:
    snippets = [
        "def f(x):\n    if x:\n        return True\n    return False\n",
        "x = isinstance(a, int) or isinstance(a, str)\n",
        "for i in range(len(a)):\n    print(a[i])\n",
        "if c:\n    pass\nelse:\n    r = []\n    for x in y:\n        r.append(x)\n",
        "def f(v):\n    if v:\n        for a in v:\n            print(a)\n    else:\n        return 1\n",
    ]
    assert all(may_match(ast.parse(s)) for s in snippets)
    assert not may_match(ast.parse("def f(x):\n    return x + 1\n"))
