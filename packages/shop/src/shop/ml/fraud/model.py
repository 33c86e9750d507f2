"""IsolationForest on order features, combined with the rules into a score and a decision.

The forest is unsupervised: it learns what ordinary orders look like, so it needs no labels
to train and catches patterns no rule names. Its raw anomaly score is mapped to 0..1 by the
training distribution (rank), mixed with the rules score, and two thresholds chosen on the
training window turn the mix into approve / review / decline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from sklearn.ensemble import IsolationForest

from shop.ml.fraud.rules import RuleHit, RulesEngine


class Decision(StrEnum):
    """What checkout does with the order."""

    APPROVE = "approve"
    REVIEW = "review"
    DECLINE = "decline"


def decide(score: float, review: float, decline: float) -> Decision:
    """Approve, review or decline by the two thresholds."""
    if score >= decline:
        return Decision.DECLINE
    return Decision.REVIEW if score >= review else Decision.APPROVE


@dataclass(frozen=True)
class FraudParams:
    """Training knobs; shares of training orders sent to review and declined."""

    # 50 trees: the held-out AUC is flat beyond that, and the ONNX export grows faster than
    # linearly with the forest.
    trees: int = 50
    model_weight: float = 0.5
    review_share: float = 0.05
    decline_share: float = 0.01
    seed: int = 0


@dataclass
class FraudModel:
    """The fitted forest, its score calibration and the decision thresholds."""

    forest: IsolationForest
    reference: np.ndarray  # sorted raw anomaly scores of the training orders
    model_weight: float
    review_threshold: float
    decline_threshold: float
    engine: RulesEngine = field(default_factory=RulesEngine)

    def model_scores_from_raw(self, raw: np.ndarray) -> np.ndarray:
        """Rank of raw anomaly scores within training: 0 ordinary … 1 most unusual."""
        return np.searchsorted(self.reference, raw, side="right") / len(self.reference)

    def model_scores(self, features: np.ndarray) -> np.ndarray:
        """The forest's 0..1 score of each row."""
        return self.model_scores_from_raw(-self.forest.score_samples(features))

    def combine(self, model_score: np.ndarray, rules_score: np.ndarray) -> np.ndarray:
        """The combined 0..1 risk."""
        return self.model_weight * model_score + (1 - self.model_weight) * rules_score

    def decide(self, score: float) -> Decision:
        """Approve, review or decline by the thresholds."""
        return decide(score, self.review_threshold, self.decline_threshold)


@dataclass(frozen=True)
class Scored:
    """One order's verdict, explained."""

    score: float
    model_score: float
    rules_score: float
    decision: Decision
    hits: list[RuleHit]


def train_fraud(
    features: np.ndarray, engine: RulesEngine, p: FraudParams = FraudParams()
) -> FraudModel:
    """Fit the forest on the training orders and set the thresholds from their scores."""
    forest = IsolationForest(n_estimators=p.trees, random_state=p.seed, n_jobs=1)
    forest.fit(features)
    reference = np.sort(-forest.score_samples(features))
    model = FraudModel(forest, reference, p.model_weight, 1.0, 1.0, engine)
    combined = model.combine(model.model_scores_from_raw(reference), engine.scores(features))
    model.review_threshold = float(np.quantile(combined, 1.0 - p.review_share))
    model.decline_threshold = float(np.quantile(combined, 1.0 - p.decline_share))
    return model


def score_one(model: FraudModel, features: np.ndarray, model_score: float) -> Scored:
    """Verdict of one order whose forest score is already known (e.g. from ONNX)."""
    hits = model.engine.hits(features)
    rules = min(1.0, sum(h.weight for h in hits))
    score = float(model.combine(np.array([model_score]), np.array([rules]))[0])
    return Scored(score, model_score, rules, model.decide(score), hits)
