"""The synthetic data set: clean functions, and the same functions with one injected bug."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pyforge.ml.corpus import SourceFile, read_source
from pyforge.ml.features import MAX_TOKENS, Encoded, encode
from pyforge.ml.inject import inject
from pyforge.ml.rewrites import REPAIR_INDEX, rewrite_space
from pyforge.ml.units import Unit, iter_functions

MIN_TOKENS = 12


@dataclass(slots=True)
class Example:
    """One function: clean (``location`` -1) or buggy with its location and repair."""

    enc: Encoded
    location: int
    repair: int  # index into REPAIRS, or -1 for a pointer repair
    pointer_sid: int  # string id of the correct replacement (pointer repairs), else 0
    kind: str  # bug kind, "clean" for clean functions
    package: str
    function: str

    def pointer_targets(self) -> np.ndarray:
        """Boolean mask of the tokens a pointer repair may point at."""
        e = self.enc
        if self.location < 0 or self.repair >= 0:
            return np.zeros(e.length, dtype=np.bool_)
        cls = e.ptr_site[self.location]
        return (e.string_id == self.pointer_sid) & (e.target_class == cls)  # type: ignore[no-any-return]


@dataclass(slots=True)
class FunctionPair:
    """A clean function and, when injection succeeded, its buggy twin."""

    clean: Example
    buggy: Example | None


def build_pairs(
    packages: dict[str, list[SourceFile]],
    *,
    per_package: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> list[FunctionPair]:
    """Up to ``per_package`` functions per package (12 to 256 tokens), each with a buggy twin."""
    rng = random.Random(seed)  # noqa: S311 - data sampling, not security
    out: list[FunctionPair] = []
    for package in sorted(packages):
        taken = 0
        for f in packages[package]:
            if taken >= per_package:
                break
            pairs = _file_pairs(f, package, rng, per_package - taken)
            out.extend(pairs)
            taken += len(pairs)
            if progress is not None:
                progress(1)
    return out


def _units(f: SourceFile) -> list[Unit]:
    """The file's functions of a usable length (none when it cannot be read or parsed)."""
    source = read_source(f.path)
    if source is None:
        return []
    try:
        units = list(iter_functions(source))
    except (SyntaxError, ValueError, RecursionError):
        return []
    return [u for u in units if MIN_TOKENS <= len(u.tokens) <= MAX_TOKENS]


def _file_pairs(
    f: SourceFile, package: str, rng: random.Random, wanted: int
) -> list[FunctionPair]:
    """Up to ``wanted`` pairs from one file, in order (the random draws as before)."""
    out: list[FunctionPair] = []
    for unit in _units(f):
        if len(out) >= wanted:
            break
        pair = _pair(unit, package, rng)
        if pair is not None:
            out.append(pair)
    return out


def _pair(unit: Unit, package: str, rng: random.Random) -> FunctionPair | None:
    try:
        space = rewrite_space(unit)
        clean = Example(encode(unit, space), -1, -1, 0, "clean", package, unit.name)
        if not clean.enc.loc_mask.any():
            return None
        injected = inject(unit, space, rng)
    except (RecursionError, ValueError, KeyError, IndexError):
        return None
    if injected is None or len(injected.unit.tokens) > MAX_TOKENS:
        return FunctionPair(clean, None)
    enc = encode(injected.unit, injected.space)
    if not enc.loc_mask[injected.location]:
        return FunctionPair(clean, None)
    sid = 0
    if injected.pointer is not None:
        match = [i for i, t in enumerate(injected.unit.tokens) if t.string == injected.pointer]
        sid = int(enc.string_id[match[0]])
    repair = REPAIR_INDEX[injected.repair] if injected.repair is not None else -1
    buggy = Example(enc, injected.location, repair, sid, injected.kind, package, unit.name)
    if repair < 0 and not buggy.pointer_targets().any():
        return FunctionPair(clean, None)
    return FunctionPair(clean, buggy)
