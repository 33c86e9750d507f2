"""The ``ml-bugs`` analyzer: the learned bug detector as engine findings (bug-risk).

The engine's rule ids carry their category's three-letter prefix, so the ML rule is
``BUG-ML101``. One rule covers the seven kinds (the kind is in the message and the
properties): a finding is reported at the model card's default threshold and carries the
probability, the kind, the repair and the model version.

Opt-in (``enable = ["ml-bugs"]``): loading ONNX Runtime and the model adds about a second to
a run, and a learned check's false alarms should be something a project chooses.
"""

from __future__ import annotations

from collections.abc import Iterator

from pyforge.analysis.context import FileContext
from pyforge.analysis.findings import Category, Confidence, Severity
from pyforge.analysis.registry import Analyzer, Hit, Span
from pyforge.ml.modelinfo import model_info

ANALYZER = Analyzer(
    id="ml-bugs",
    version=model_info().version,
    description="Learned bug detector (ONNX model trained on injected bugs); see its model card.",
    default_enabled=False,
)


@ANALYZER.rule("BUG-ML101", "ml-likely-bug", Category.BUG_RISK, Severity.MAJOR, on="file",
               confidence=Confidence.LOW)  # fmt: skip
def likely_bug(ctx: FileContext) -> Iterator[Hit]:
    """A learned model finds a likely bug: wrong variable, literal, operator, negation, args.

    A transformer trained on bugs injected into real code (variable misuse, wrong literal,
    wrong comparison or binary operator, negation added or removed, ``and``/``or`` swapped,
    swapped call arguments) scores every function; its most likely bug is reported when the
    probability reaches the model card's default threshold, chosen for a false-alarm rate of
    at most 1 % on unmodified held-out functions. The finding carries the probability, the
    kind and the repair.

    How to fix: check the suggested repair; if the code is right, the finding is a false alarm
    of the model (suppress it like any other finding).
    """
    from pyforge.ml.detector import default_detector  # numpy and ONNX Runtime: only when on

    try:
        detector = default_detector()
        found = detector.detect_source(ctx.text, ctx.path, detector.info.threshold)
    except (SyntaxError, ValueError, RecursionError):
        return  # the engine reports unparsable files itself
    for d in found:
        yield Hit(
            Span(d.line, d.column, d.end_line, d.end_column),
            d.message,
            fix=d.repair,
            properties={"probability": d.probability, "kind": d.kind, "repair": d.repair,
                        "model_version": detector.info.version},
        )  # fmt: skip
