"""Metrics of a detector on held-out functions: joint accuracy, per-kind accuracy, false alarms.

A detector is judged on :class:`Scored` results: for each function its verdict, whether the
verdict's location and repair are the right ones (buggy functions), and its probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyforge.ml.rewrites import KINDS

# Assumed share of functions holding a bug of these kinds in real code, for the projected
# precision; real-bug studies put it well under this, so the projection is, if anything, kind.
REAL_PREVALENCE = 0.01
MAX_FALSE_ALARM_RATE = 0.01
THRESHOLDS = [i / 100 for i in range(1, 100)]


@dataclass(frozen=True, slots=True)
class Scored:
    """One function's verdict, judged against the truth."""

    kind: str  # "clean" or the injected bug kind
    probability: float  # of the best (location, repair)
    argmax_bug: bool  # the single most likely answer is "a bug", not "no bug"
    location_ok: bool  # best location == true location (buggy functions)
    repair_ok: bool  # repair at the true location is right (buggy functions)
    joint_ok: bool  # best (location, repair) both right (buggy functions)


def _rate(num: int, den: int) -> float:
    return round(num / den, 4) if den else 0.0


def at_threshold(scored: Sequence[Scored], t: float) -> dict[str, float]:
    """False-alarm rate, precision and recall when warning at probability ≥ ``t``."""
    clean = [s for s in scored if s.kind == "clean"]
    buggy = [s for s in scored if s.kind != "clean"]
    false_alarms = sum(s.probability >= t for s in clean)
    flagged = [s for s in buggy if s.probability >= t]
    tp = sum(s.joint_ok for s in flagged)
    fp = false_alarms + len(flagged) - tp
    far = false_alarms / len(clean) if clean else 0.0
    recall = tp / len(buggy) if buggy else 0.0
    wrong_on_buggy = (len(flagged) - tp) / len(buggy) if buggy else 0.0
    pi = REAL_PREVALENCE
    projected_tp = recall * pi
    projected_fp = far * (1 - pi) + wrong_on_buggy * pi
    return {
        "threshold": t,
        "false_alarm_rate": round(far, 4),
        "precision": _rate(tp, tp + fp),
        "recall": round(recall, 4),
        "projected_precision_at_1pct_prevalence": round(
            projected_tp / (projected_tp + projected_fp), 4
        )
        if projected_tp + projected_fp
        else 0.0,
    }


def choose_threshold(scored: Sequence[Scored]) -> float:
    """The lowest threshold whose false-alarm rate on clean functions is at most 1 %.

    Chosen on validation packages only; precision over recall, as a user who sees mostly
    wrong warnings turns the feature off.
    """
    for t in THRESHOLDS:
        if at_threshold(scored, t)["false_alarm_rate"] <= MAX_FALSE_ALARM_RATE:
            return t
    return THRESHOLDS[-1]


def _kind_figures(ks: Sequence[Scored]) -> dict[str, float]:
    joint = sum(s.joint_ok and s.argmax_bug for s in ks)
    return {
        "functions": len(ks),
        "joint_accuracy": _rate(joint, len(ks)),
        "location_accuracy": _rate(sum(s.location_ok for s in ks), len(ks)),
        "repair_accuracy": _rate(sum(s.repair_ok for s in ks), len(ks)),
    }


def summary(scored: Sequence[Scored], threshold: float) -> dict[str, Any]:
    """Every figure of the model card for one detector on one split."""
    clean = [s for s in scored if s.kind == "clean"]
    buggy = [s for s in scored if s.kind != "clean"]
    per_kind = {kind: _kind_figures([s for s in buggy if s.kind == kind]) for kind in KINDS}
    present = [per_kind[k]["joint_accuracy"] for k in KINDS if per_kind[k]["functions"]]
    clean_ok = sum(not s.argmax_bug for s in clean)
    buggy_ok = sum(s.joint_ok and s.argmax_bug for s in buggy)
    return {
        "clean_functions": len(clean),
        "buggy_functions": len(buggy),
        "joint_accuracy": _rate(clean_ok + buggy_ok, len(scored)),
        "joint_accuracy_buggy": _rate(buggy_ok, len(buggy)),
        "joint_accuracy_mean_over_kinds": round(sum(present) / len(present), 4) if present else 0.0,
        "clean_accuracy": _rate(clean_ok, len(clean)),
        "per_kind": per_kind,
        "at_default_threshold": at_threshold(scored, threshold),
        "curve": [at_threshold(scored, t) for t in (0.1, 0.2, 0.3, 0.5, 0.7, 0.9)],
    }
