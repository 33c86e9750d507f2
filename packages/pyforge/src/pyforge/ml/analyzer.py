"""The ``ml-bugs`` analyzer: the learned bug detector as engine findings (bug-risk, BUG-ML1xx).

The engine's rule ids carry their category's three-letter prefix, so the ML rules are
``BUG-ML101`` … ``BUG-ML107``, one per bug kind. Findings are reported at the model card's
default threshold and carry the probability, the repair and the model version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pyforge.analysis.context import FileContext
from pyforge.analysis.findings import Category, Confidence, Severity
from pyforge.analysis.registry import Analyzer, Hit, Span
from pyforge.ml.detector import Detection, default_detector, model_info
from pyforge.ml.rewrites import KINDS

RULE_IDS = {kind: f"BUG-ML{101 + i}" for i, kind in enumerate(KINDS)}
_HELP = {
    "variable-misuse": "A variable, function or attribute name that looks like the wrong one.",
    "wrong-literal": "A constant (number off by one, True/False/None, a string) that looks wrong.",
    "wrong-comparison": "A comparison operator that looks wrong.",
    "wrong-binary-operator": "An arithmetic or bitwise operator that looks wrong.",
    "negation": "A condition whose negation looks wrong (a `not` too many or missing).",
    "and-or-swap": "An `and` that should be `or`, or the reverse.",
    "swapped-arguments": "Two positional arguments of a call that look swapped.",
}

ANALYZER = Analyzer(
    id="ml-bugs",
    version=model_info().version,
    description="Learned bug detector (ONNX model trained on injected bugs); see its model card.",
)

_cache: dict[tuple[str, int], list[Detection]] = {}


def _detections(ctx: FileContext) -> list[Detection]:
    # Each rule's file check runs on its own; the model runs once per file and the other
    # rules read its result (one entry: the engine checks one file at a time).
    key = (ctx.path, hash(ctx.text))
    if key not in _cache:
        _cache.clear()
        try:
            detector = default_detector()
            _cache[key] = detector.detect_source(ctx.text, ctx.path, detector.info.threshold)
        except (SyntaxError, ValueError, RecursionError):
            _cache[key] = []  # the engine reports unparsable files itself
    return _cache[key]


def _check_for(kind: str) -> Callable[[FileContext], Iterator[Hit]]:
    def check(ctx: FileContext) -> Iterator[Hit]:
        version = ANALYZER.version
        for d in _detections(ctx):
            if d.kind == kind:
                yield Hit(
                    Span(d.line, d.column, d.end_line, d.end_column),
                    d.message,
                    fix=d.repair,
                    properties={"probability": d.probability, "repair": d.repair,
                                "model_version": version},
                )  # fmt: skip

    check.__doc__ = (
        f"{_HELP[kind]}\n\nReported by a model trained on synthetic bugs when its probability "
        "reaches the model card's default threshold; the finding carries the probability and "
        "the suggested repair.\n\nHow to fix: check the suggested repair; if the code is "
        "right, the finding is a false alarm of the model."
    )
    return check


for _kind in KINDS:
    ANALYZER.rule(RULE_IDS[_kind], f"ml-{_kind}", Category.BUG_RISK, Severity.MAJOR,
                  on="file", confidence=Confidence.LOW)(_check_for(_kind))  # fmt: skip
