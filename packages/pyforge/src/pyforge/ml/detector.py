"""Serving the shipped bug detector: ONNX Runtime over the functions of a source file.

The model file ships in this package with its metadata (``models/bugs.json``: name, version,
sha256, default threshold); the session comes from :mod:`forgekit.inference`, so a process
loads it once and the file is verified by sha256 before use.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pyforge.ml.decode import Verdict, decide
from pyforge.ml.features import MAX_TOKENS, Encoded, collate, encode
from pyforge.ml.rewrites import REPAIRS, RewriteSpace, Site, repair_kind, rewrite_space
from pyforge.ml.units import Unit, iter_functions

MODEL_DIR = Path(__file__).parent / "models"
BATCH = 16


@dataclass(frozen=True, slots=True)
class Detection:
    """One suspected bug; positions are 1-based lines and columns of the file."""

    path: str
    function: str
    line: int
    column: int
    end_line: int
    end_column: int
    kind: str
    probability: float
    repair: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The detection as JSON data."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """The shipped model's metadata (from ``bugs.json``)."""

    name: str
    version: str
    sha256: str
    threshold: float
    path: Path


def model_info(model_dir: Path = MODEL_DIR) -> ModelInfo:
    """Read the metadata of the shipped model."""
    meta = json.loads((model_dir / "bugs.json").read_text())
    return ModelInfo(meta["name"], meta["version"], meta["sha256"], float(meta["threshold"]),
                     model_dir / meta["file"])  # fmt: skip


class BugDetector:
    """Scores the functions of Python sources with the ONNX model."""

    def __init__(self, model_dir: Path = MODEL_DIR) -> None:
        from forgekit.inference import InferenceSettings, get_session

        self.info = model_info(model_dir)
        self.session = get_session(
            self.info.path.read_bytes(), InferenceSettings(), sha256=self.info.sha256
        )

    def run(self, encoded: list[Encoded]) -> list[tuple[Any, ...]]:
        """Raw outputs (loc, nobug, repair, pointer) per function, unpadded."""
        out: list[tuple[Any, ...]] = [()] * len(encoded)
        order = sorted(range(len(encoded)), key=lambda i: encoded[i].length)
        for s in range(0, len(order), BATCH):
            idx = order[s : s + BATCH]
            b = collate([encoded[i] for i in idx])
            loc, nobug, rep, ptr = self.session.run(
                None, {"sub": b.sub, "kind": b.kind, "pad": b.pad}
            )
            for k, i in enumerate(idx):
                n = encoded[i].length
                out[i] = (loc[k, :n], float(nobug[k]), rep[k, :n], ptr[k, :n, :n])
        return out

    def detect_source(self, source: str, path: str, threshold: float) -> list[Detection]:
        """Every function's best candidate at or above ``threshold`` (raises SyntaxError)."""
        units = list(iter_functions(source))
        prepared: list[tuple[Unit, RewriteSpace, Encoded]] = []
        for unit in units:
            space = rewrite_space(unit)
            enc = encode(unit, space)
            if enc.loc_mask.any():
                prepared.append((unit, space, enc))
        if not prepared:
            return []
        outputs = self.run([p[2] for p in prepared])
        found = []
        for (unit, space, enc), (loc, nobug, rep, ptr) in zip(prepared, outputs, strict=True):
            verdict = decide(enc, loc, nobug, rep, ptr)
            if verdict.location < 0 or verdict.probability < threshold:
                continue
            found.append(describe(unit, space, verdict, path))
        return found


def describe(unit: Unit, space: RewriteSpace, v: Verdict, path: str) -> Detection:
    """A verdict as a located detection with a readable repair."""
    tok = unit.tokens[v.location]
    site = space.sites.get(v.location) or Site()
    start, end = tok.start, tok.end
    if v.repair >= 0:
        name = REPAIRS[v.repair]
        kind = repair_kind(name, site.ptr_class)
        if site.span is not None and name not in ("add_not",):
            start, end = site.span[0], site.span[1]
        if name == "swap_args" and site.other_span is not None:
            end = site.other_span[1]
        current = _text(unit, start, end)
        repair = _repair_text(name, tok.string, current)
    else:
        kind = repair_kind(None, site.ptr_class)
        replacement = unit.tokens[v.pointer].string
        repair = f"replace `{tok.string}` with `{replacement}`"
    if v.repair >= 0 and REPAIRS[v.repair] == "add_not" and site.span is not None:
        start, end = site.span
    line, column = unit.file_position(start)
    end_line, end_column = unit.file_position(end)
    message = f"Possible {kind.replace('-', ' ')} bug: {repair}."
    return Detection(path, unit.name, line, column, end_line, end_column, kind,
                     round(v.probability, 4), repair, message)  # fmt: skip


def _text(unit: Unit, start: tuple[int, int], end: tuple[int, int]) -> str:
    return " ".join(t.string for t in unit.tokens if t.start >= start and t.end <= end)


def _repair_text(name: str, token: str, current: str) -> str:
    if name == "num_inc":
        return f"replace `{token}` with `{int(token) + 1}`"
    if name == "num_dec":
        return f"replace `{token}` with `{int(token) - 1}`"
    if name == "add_not":
        return f"negate the condition (`not {current[:40]}`)"
    if name == "remove_not":
        return "remove the `not`"
    if name == "swap_args":
        return f"swap the arguments `{current[:60]}`"
    return f"replace `{current}` with `{name}`"


@lru_cache(maxsize=1)
def default_detector() -> BugDetector:
    """The process's detector over the shipped model."""
    return BugDetector()


def token_limit() -> int:
    """Tokens of a function the model reads; later tokens are not checked."""
    return MAX_TOKENS
