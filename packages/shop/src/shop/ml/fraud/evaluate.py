"""Held-out fraud figures: train on the earlier orders, measure on the later ones.

ROC AUC of the combined score, of the rules alone and of the forest alone on the same test
orders, and precision/recall at the review threshold. Takes any labelled orders table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shop.ml.fraud.data import OrderRow
from shop.ml.fraud.features import featurize
from shop.ml.fraud.model import FraudModel, FraudParams, train_fraud
from shop.ml.fraud.rules import DEFAULT_RULES, Rule, RulesEngine
from shop.ml.metrics import Figures, roc_auc


@dataclass(frozen=True)
class FraudReport(Figures):
    """Test-window figures of the combined score and of each part alone."""

    test_orders: int
    test_fraud: int
    auc: float
    rules_auc: float
    model_auc: float
    precision_at_review: float
    recall_at_review: float
    review_threshold: float


def evaluate(
    orders: Sequence[OrderRow],
    *,
    rules: Sequence[Rule] = DEFAULT_RULES,
    test_share: float = 0.3,
    params: FraudParams = FraudParams(),
) -> tuple[FraudModel, FraudReport]:
    """Fit on the first orders in time, measure on the rest (labels needed on the rest)."""
    features = featurize(orders)  # point-in-time: each row sees only earlier orders
    labels = np.array([bool(o.fraud) for o in orders])
    cut = int(len(orders) * (1.0 - test_share))
    engine = RulesEngine(rules)
    model = train_fraud(features[:cut], engine, params)
    test_x, test_y = features[cut:], labels[cut:]
    model_s = model.model_scores(test_x)
    rules_s = engine.scores(test_x)
    combined = model.combine(model_s, rules_s)
    flagged = combined >= model.review_threshold
    tp = int((flagged & test_y).sum())
    report = FraudReport(
        test_orders=len(test_y), test_fraud=int(test_y.sum()),
        auc=roc_auc(test_y, combined), rules_auc=roc_auc(test_y, rules_s),
        model_auc=roc_auc(test_y, model_s),
        precision_at_review=tp / int(flagged.sum()) if flagged.any() else 0.0,
        recall_at_review=tp / max(1, int(test_y.sum())),
        review_threshold=model.review_threshold,
    )  # fmt: skip
    return model, report
