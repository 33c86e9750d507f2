"""The shared measures against hand-computed values and sklearn's reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shop.ml.metrics import coverage, interval_coverage, mase, precision_recall_at_k, roc_auc
from sklearn.metrics import roc_auc_score


def test_precision_recall_at_k_by_hand() -> None:
    recs = {1: [5, 6, 7], 2: [1, 2, 3]}
    relevant = {1: {5, 9}, 2: {4}}
    p, r = precision_recall_at_k(recs, relevant, 3)
    assert p == pytest.approx((1 / 3 + 0) / 2)
    assert r == pytest.approx((1 / 2 + 0) / 2)


def test_coverage_counts_distinct_items() -> None:
    assert coverage({1: [1, 2], 2: [2, 3]}, n_items=6, k=2) == pytest.approx(0.5)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=60))
def test_roc_auc_matches_sklearn(pairs: list[tuple[bool, int]]) -> None:
    labels = np.array([p[0] for p in pairs])
    scores = np.array([p[1] for p in pairs], dtype=float)
    if labels.all() or not labels.any():
        with pytest.raises(ValueError):
            roc_auc(labels, scores)
        return
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))


def test_mase_of_seasonal_naive_on_a_pure_season_is_zero() -> None:
    history = np.tile([1.0, 5.0, 3.0], 5) + np.arange(15) * 0.0
    history[0] = 2.0  # some in-sample error so the scale is not zero
    actual = np.array([1.0, 5.0, 3.0])
    assert mase(actual, actual, history, 3) == 0.0
    assert mase(actual, actual + 1, history, 3) > 0


def test_interval_coverage() -> None:
    assert interval_coverage(np.array([1, 2, 3]), np.array([0, 3, 2]), np.array([2, 4, 4])) == (
        pytest.approx(2 / 3)
    )
