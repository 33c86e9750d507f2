"""The shipped bug detector: ONNX Runtime over the functions of a source file.

The model file ships in this package with its metadata (``models/bugs.json``: name, version,
sha256, default threshold) and is verified by sha256 before use. The CLI and the analysis
engine open the session directly: the engine must not import the kit's web stack. A server
serves the same model batched through :mod:`forgekit.inference` (see ``serving``).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pyforge.ml.decode import Verdict, decide
from pyforge.ml.features import Encoded, collate, encode
from pyforge.ml.modelinfo import MODEL_DIR, model_info
from pyforge.ml.rewrites import REPAIRS, RewriteSpace, Site, repair_kind, rewrite_space
from pyforge.ml.units import Unit, iter_functions

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


class BugDetector:
    """Scores the functions of Python sources with the ONNX model."""

    def __init__(self, model_dir: Path = MODEL_DIR, threads: int = 1) -> None:
        import onnxruntime as ort

        self.info = model_info(model_dir)
        data = self.info.path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.info.sha256:
            raise ValueError(f"{self.info.path}: sha256 {digest} is not {self.info.sha256}")
        opts = ort.SessionOptions()
        # One thread by default: the engine runs files in parallel processes already.
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])

    def run(self, encoded: list[Encoded]) -> list[Outputs]:
        """Raw outputs (loc, nobug, repair, pointer) per function, unpadded."""
        out: list[Outputs] = [()] * len(encoded)
        order = sorted(range(len(encoded)), key=lambda i: encoded[i].length)
        for s in range(0, len(order), BATCH):
            idx = order[s : s + BATCH]
            loc, nobug, rep, ptr = self.session.run(None, inputs([encoded[i] for i in idx]))
            for k, i in enumerate(idx):
                out[i] = unpad(encoded[i], (loc[k], nobug[k], rep[k], ptr[k]))
        return out

    def detect_source(self, source: str, path: str, threshold: float) -> list[Detection]:
        """Every function's best candidate at or above ``threshold`` (raises SyntaxError)."""
        prepared = prepare(source)
        outputs = self.run([p[2] for p in prepared]) if prepared else []
        return verdicts(prepared, outputs, path, threshold)


Outputs = tuple[Any, ...]
Prepared = tuple[Unit, RewriteSpace, Encoded]


def prepare(source: str) -> list[Prepared]:
    """The functions of a source that have a rewrite site, encoded (raises SyntaxError)."""
    prepared: list[Prepared] = []
    for unit in iter_functions(source):
        space = rewrite_space(unit)
        enc = encode(unit, space)
        if enc.loc_mask.any():
            prepared.append((unit, space, enc))
    return prepared


def inputs(batch: list[Encoded]) -> dict[str, Any]:
    """The ONNX model's inputs for a list of functions (padded to the longest)."""
    b = collate(batch)
    return {"sub": b.sub, "kind": b.kind, "pad": b.pad}


def unpad(enc: Encoded, row: Outputs) -> Outputs:
    """One function's outputs cut to its own length."""
    n = enc.length
    loc, nobug, rep, ptr = row
    return (loc[:n], float(nobug), rep[:n], ptr[:n, :n])


def verdicts(
    prepared: list[Prepared], outputs: list[Outputs], path: str, threshold: float
) -> list[Detection]:
    """Detections of the functions whose best candidate reaches ``threshold``."""
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
