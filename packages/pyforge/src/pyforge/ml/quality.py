"""Quality prediction: a 0-100 score, a level A-E and a confidence, per file and per project.

What the score predicts, stated once here and in ``models/QUALITY_CARD.md``: the probability
``p`` that a file holds a bug of the detector's seven kinds, from the detector's per-function
probabilities and the file's size. ``p`` comes from a logistic model trained by
``pyforge train quality`` on packages the detector never saw in training, and its calibration
(expected calibration error) and discrimination (AUC) are measured on other held-out packages.

Deterministic parts, by formula: ``score = round(100 * (1 - p))``; the level is A for a score of
80 or more, B 60-79, C 40-59, D 20-39, E below 20 (the bands of the A-E ratings); the confidence
is the probability of the call the score makes (``max(p, 1 - p)``); a project's score is the
mean of its files' scores weighted by lines of code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyforge.ml.modelinfo import MODEL_DIR

QUALITY_FILE = "quality.json"
FEATURES = ("max_p", "noisy_or", "mean_p", "above_threshold", "log_functions", "log_loc")
LEVEL_BANDS = ((80, "A"), (60, "B"), (40, "C"), (20, "D"), (0, "E"))


def features(probabilities: Sequence[float], loc: int, threshold: float) -> list[float]:
    """The model's inputs for one file: its functions' best-candidate probabilities and size."""
    ps = [min(max(p, 0.0), 1.0) for p in probabilities]
    clean = 1.0
    for p in ps:
        clean *= 1.0 - p
    return [
        max(ps, default=0.0),
        1.0 - clean,
        sum(ps) / len(ps) if ps else 0.0,
        float(sum(1 for p in ps if p >= threshold)),
        math.log1p(len(ps)),
        math.log1p(loc),
    ]


def level_of(score: int) -> str:
    """The A-E level of a 0-100 score (deterministic bands)."""
    return next(letter for floor, letter in LEVEL_BANDS if score >= floor)


@dataclass(frozen=True)
class QualityPrediction:
    """One file's (or a project's) prediction."""

    score: int
    level: str
    confidence: float
    bug_probability: float

    def as_dict(self) -> dict[str, Any]:
        """JSON data."""
        return {"score": self.score, "level": self.level, "confidence": round(self.confidence, 4),
                "bug_probability": round(self.bug_probability, 4)}  # fmt: skip


def _prediction(p: float) -> QualityPrediction:
    score = round(100 * (1.0 - p))
    return QualityPrediction(score, level_of(score), max(p, 1.0 - p), p)


@dataclass(frozen=True)
class QualityModel:
    """The logistic model of ``models/quality.json`` (standardised features, one layer)."""

    name: str
    version: str
    detector: str
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    metrics: dict[str, Any]

    @classmethod
    def load(cls, model_dir: Path = MODEL_DIR) -> QualityModel:
        """Read the shipped model."""
        meta = json.loads((model_dir / QUALITY_FILE).read_text())
        if tuple(meta["features"]) != FEATURES:
            raise ValueError(f"{QUALITY_FILE} was trained on other features: {meta['features']}")
        return cls(meta["name"], meta["version"], meta["detector"], tuple(meta["mean"]),
                   tuple(meta["scale"]), tuple(meta["coef"]), float(meta["intercept"]),
                   dict(meta.get("test", {})))  # fmt: skip

    def probability(self, x: Sequence[float]) -> float:
        """P(the file holds a bug of the detector's kinds)."""
        z = self.intercept + sum(
            c * (v - m) / s for c, v, m, s in zip(self.coef, x, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def predict_file(
        self, probabilities: Sequence[float], loc: int, threshold: float
    ) -> QualityPrediction:
        """The prediction for one file."""
        return _prediction(self.probability(features(probabilities, loc, threshold)))


def project_prediction(files: Sequence[tuple[QualityPrediction, int]]) -> QualityPrediction | None:
    """A project's prediction: its files' predictions weighted by lines of code."""
    total = sum(max(loc, 1) for _, loc in files)
    if not files:
        return None
    p = sum(pred.bug_probability * max(loc, 1) for pred, loc in files) / total
    return _prediction(p)
