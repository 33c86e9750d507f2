"""Bug injection: apply one rewrite to a clean function and name the repair that undoes it."""

from __future__ import annotations

import random
from dataclasses import dataclass

from pyforge.ml.rewrites import (
    BIN_OPS,
    BOOL_OPS,
    CMP_OPS,
    CONSTANTS,
    PTR_NONE,
    RewriteSpace,
    pointer_targets,
    repair_kind,
    rewrite_space,
)
from pyforge.ml.units import WRAPPER, Unit, parse_unit

_INVERSE = {"num_inc": "num_dec", "num_dec": "num_inc", "add_not": "remove_not",
            "remove_not": "add_not", "swap_args": "swap_args"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A rewrite at token ``index``: a fixed repair, or ``pointer`` (a replacement string)."""

    index: int
    repair: str | None
    pointer: str | None = None


@dataclass(frozen=True, slots=True)
class Injected:
    """A buggy unit, the location of the bug (token index) and the repair that fixes it."""

    unit: Unit
    space: RewriteSpace
    location: int
    repair: str | None  # a fixed repair, or None for a pointer repair...
    pointer: str | None  # ...to tokens carrying this string
    kind: str


def candidates(unit: Unit, space: RewriteSpace) -> dict[str, list[Rewrite]]:
    """Every rewrite of a unit, grouped by bug kind."""
    out: dict[str, list[Rewrite]] = {}
    for index, site in space.sites.items():
        for repair in site.repairs:
            out.setdefault(repair_kind(repair, PTR_NONE), []).append(Rewrite(index, repair))
        if site.ptr_class != PTR_NONE:
            for s in pointer_targets(unit, space, index):
                kind = repair_kind(None, site.ptr_class)
                out.setdefault(kind, []).append(Rewrite(index, None, s))
    return out


def _offset(lines_start: list[int], pos: tuple[int, int]) -> int:
    return lines_start[pos[0] - 1] + pos[1]


def apply(unit: Unit, space: RewriteSpace, rw: Rewrite) -> tuple[str, tuple[int, int]] | None:
    """The unit's text with the rewrite applied, and the position of the edit's start."""
    text = unit.text
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    tok = unit.tokens[rw.index]
    site = space.sites[rw.index]
    a, b = _offset(starts, tok.start), _offset(starts, tok.end)
    if rw.pointer is not None:
        new = rw.pointer
    elif rw.repair in CMP_OPS:
        assert site.span is not None
        a, b = _offset(starts, site.span[0]), _offset(starts, site.span[1])
        new = rw.repair
    elif rw.repair in BIN_OPS or rw.repair in BOOL_OPS or rw.repair in CONSTANTS:
        new = rw.repair or ""
    elif rw.repair in ("num_inc", "num_dec"):
        new = str(int(tok.string) + (1 if rw.repair == "num_inc" else -1))
    elif rw.repair == "add_not":
        b, new = a, "not "
    elif rw.repair == "remove_not":
        assert site.span is not None
        b, new = _offset(starts, site.span[1]), ""
    elif rw.repair == "swap_args":
        assert site.span is not None and site.other_span is not None
        a, b = _offset(starts, site.span[0]), _offset(starts, site.span[1])
        c, d = _offset(starts, site.other_span[0]), _offset(starts, site.other_span[1])
        return text[:a] + text[c:d] + text[b:c] + text[a:b] + text[d:], tok.start
    else:
        return None
    return text[:a] + new + text[b:], tok.start


def inject(unit: Unit, space: RewriteSpace, rng: random.Random) -> Injected | None:
    """Inject one bug (kind chosen uniformly among those the function allows), or ``None``."""
    by_kind = candidates(unit, space)
    if not by_kind:
        return None
    kind = rng.choice(sorted(by_kind))
    rw = rng.choice(by_kind[kind])
    applied = apply(unit, space, rw)
    if applied is None:
        return None
    text, start = applied
    buggy = parse_unit(unit.name, unit_source_of(unit, text), unit.first_line)
    if buggy is None:
        return None
    bspace = rewrite_space(buggy)
    location = next((i for i, t in enumerate(buggy.tokens) if t.start == start), None)
    if location is None or location not in bspace.sites:
        return None
    site = bspace.sites[location]
    if rw.pointer is not None or (rw.repair is None):
        original = unit.tokens[rw.index].string
        if original not in pointer_targets(buggy, bspace, location):
            return None
        return Injected(buggy, bspace, location, None, original, kind)
    if rw.repair in _INVERSE:
        fix = _INVERSE[rw.repair]
    elif rw.repair in CMP_OPS:
        old_site = space.sites[rw.index]
        assert old_site.span is not None
        fix = _span_text(unit, old_site.span)
    else:
        fix = unit.tokens[rw.index].string
    if fix not in site.repairs:
        return None
    return Injected(buggy, bspace, location, fix, None, kind)


def _span_text(unit: Unit, span: tuple[tuple[int, int], tuple[int, int]]) -> str:
    return " ".join(t.string for t in unit.tokens if t.start >= span[0] and t.end <= span[1])


def unit_source_of(unit: Unit, text: str) -> str:
    """Strip the parsing wrapper from a rewritten unit text."""
    return text[len(WRAPPER) :] if unit.wrapped else text
