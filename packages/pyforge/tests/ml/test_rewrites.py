"""The rewrite space and bug injection: every injected bug parses and its repair undoes it."""

from __future__ import annotations

import ast
import inspect
import json.decoder
import random
import textwrap

import pytest

from pyforge.ml.corpus import is_excluded, split_of
from pyforge.ml.features import collate, encode
from pyforge.ml.inject import Rewrite, apply, candidates, inject, unit_source_of
from pyforge.ml.rewrites import KINDS, REPAIRS, rewrite_space
from pyforge.ml.units import iter_functions, parse_unit

SOURCE = textwrap.dedent(
    '''
    class Box:
        def grow(self, items, limit):
            """Docstrings are never rewritten."""
            total = 0
            for item in items:
                if item.size > limit and not item.frozen:
                    total = total + item.size
            self.store(items, total)
            return total == 1 or None
    '''
)


def _unit():
    (unit,) = list(iter_functions(SOURCE))
    return unit


def _sites(unit):
    space = rewrite_space(unit)
    return {unit.tokens[i].string: site for i, site in space.sites.items()}, space


def test_methods_are_units_with_file_positions():
    unit = _unit()
    assert unit.name == "Box.grow"
    assert unit.wrapped  # indented, parsed behind "if 1:"
    first = unit.tokens[0]
    assert first.string == "def"
    assert unit.file_position(first.start) == (3, 5)  # 1-based, as in the file


def test_rewrite_space_covers_every_kind():
    unit = _unit()
    sites, space = _sites(unit)
    assert set(sites[">"].repairs) == {op for op in REPAIRS[:10] if op != ">"}
    assert sites["+"].repairs and "+" not in sites["+"].repairs
    assert sites["and"].repairs == ["or"]
    assert "remove_not" in sites["not"].repairs
    assert set(sites["1"].repairs) == {"num_inc", "num_dec"}
    # None is also an operand of `or`, so negating it is a candidate too.
    assert set(sites["None"].repairs) == {"True", "False", "add_not"}
    assert sites["items"].ptr_class  # a name read may be the wrong variable
    kinds = set(candidates(unit, space))
    assert kinds == set(KINDS)
    # The docstring is not a string site; the attribute `size` is a pointer site.
    doc = [i for i, t in enumerate(unit.tokens) if t.string.startswith('"""')]
    assert doc and doc[0] not in space.sites


@pytest.mark.parametrize("repair", ["<", "-", "or", "num_inc", "True", "remove_not", "swap_args"])
def test_each_fixed_rewrite_parses(repair):
    unit = _unit()
    space = rewrite_space(unit)
    index = next(i for i, s in space.sites.items() if repair in s.repairs)
    text, start = apply(unit, space, Rewrite(index, repair))
    ast.parse(text)
    assert text != unit.text
    assert unit.tokens[index].start == start


def test_swap_args_swaps_whole_arguments():
    unit = _unit()
    space = rewrite_space(unit)
    index = next(i for i, s in space.sites.items() if "swap_args" in s.repairs)
    text, _ = apply(unit, space, Rewrite(index, "swap_args"))
    assert "self.store(total, items)" in text


def test_injected_bug_is_undone_by_its_repair():
    rng = random.Random(0)
    seen = set()
    source = inspect.getsource(json.decoder)
    for unit in iter_functions(source):
        space = rewrite_space(unit)
        for _ in range(5):
            bug = inject(unit, space, rng)
            if bug is None:
                continue
            seen.add(bug.kind)
            site = bug.space.sites[bug.location]
            if bug.repair is None:
                # Pointing back at the original name restores the original source.
                fixed, _ = apply(bug.unit, bug.space, Rewrite(bug.location, None, bug.pointer))
            else:
                assert bug.repair in site.repairs
                fixed, _ = apply(bug.unit, bug.space, Rewrite(bug.location, bug.repair))
            restored = unit_source_of(bug.unit, fixed)
            assert ast.dump(ast.parse(textwrap.dedent(restored))) == ast.dump(
                ast.parse(textwrap.dedent(unit_source_of(unit, unit.text)))
            )
    assert {"variable-misuse", "wrong-comparison", "wrong-literal"} <= seen


def test_encoding_masks_match_the_rewrite_space():
    unit = _unit()
    space = rewrite_space(unit)
    enc = encode(unit, space)
    assert enc.length == len(unit.tokens)
    assert set(enc.loc_mask.nonzero()[0]) == set(space.sites)
    batch = collate([enc, enc])
    assert batch.sub.shape == (2, enc.length, 4)
    # A pointer never proposes the name that is already there.
    same = [j for j, t in enumerate(unit.tokens) if t.string == "items"]
    i = same[-1]  # a read of `items` (the first one is the parameter)
    same = [j for j, t in enumerate(unit.tokens) if t.string == "items"]
    assert not batch.ptr_mask[0, i, same].any()
    assert batch.ptr_mask[0, i].any()


def test_unparsable_function_is_skipped():
    assert parse_unit("f", "def f(:\n  pass\n", 1) is None


def test_held_back_projects_and_vendored_copies_are_excluded():
    from pathlib import Path

    assert is_excluded(Path("pip/_vendor/requests/api.py"))
    assert is_excluded(Path("pip/_vendor/rich/console.py"))
    assert is_excluded(Path("_pytest/main.py"))
    assert is_excluded(Path("attr/_make.py"))
    assert not is_excluded(Path("pip/_vendor/idna/core.py"))
    assert split_of("stdlib.json") == split_of("stdlib.json")
    assert {split_of(f"pkg{i}") for i in range(200)} == {"train", "val", "test"}
