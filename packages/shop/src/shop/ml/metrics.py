"""Evaluation measures shared by the ML domains (pure numpy, no model code)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np


class Figures:
    """Mixin for a dataclass of held-out figures: plain numbers for a run record or a card."""

    def as_dict(self) -> dict[str, float]:
        """Every field as a float."""
        fields: dict[str, Any] = asdict(self)  # type: ignore[call-overload]
        return {key: float(value) for key, value in fields.items()}


def precision_recall_at_k(
    recommended: Mapping[int, Sequence[int]], relevant: Mapping[int, set[int]], k: int
) -> tuple[float, float]:
    """Mean precision@k and recall@k over the users that have relevant items."""
    users = [u for u, items in relevant.items() if items]
    if not users:
        return 0.0, 0.0
    precisions, recalls = [], []
    for user in users:
        top = list(recommended.get(user, ()))[:k]
        hits = len(set(top) & relevant[user])
        precisions.append(hits / k)
        recalls.append(hits / len(relevant[user]))
    return float(np.mean(precisions)), float(np.mean(recalls))


def coverage(recommended: Mapping[int, Sequence[int]], n_items: int, k: int) -> float:
    """Share of the catalogue that appears in at least one top-k list."""
    shown = {item for items in recommended.values() for item in list(items)[:k]}
    return len(shown) / n_items if n_items else 0.0


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC by the rank-sum formula (ties get their mean rank)."""
    labels = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC AUC needs both classes")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = np.asarray(scores)[order]
    # Mean rank within each run of equal scores.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    mean_rank = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(mean_rank, counts)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def mase(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray, season: int) -> float:
    """Mean absolute scaled error: forecast MAE over the in-sample seasonal-naive MAE."""
    history = np.asarray(history, dtype=np.float64)
    if len(history) <= season:
        raise ValueError(f"MASE needs more than {season} points of history")
    scale = float(np.mean(np.abs(history[season:] - history[:-season])))
    if scale == 0.0:
        scale = float(np.mean(np.abs(np.diff(history)))) or 1.0
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(forecast))) / scale)


def interval_coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actual values inside their prediction interval."""
    actual = np.asarray(actual)
    return float(np.mean((actual >= lower) & (actual <= upper)))


def percentile_ms(seconds: Sequence[float], q: float = 95.0) -> float:
    """The q-th percentile of durations given in seconds, in milliseconds."""
    return float(np.percentile(np.asarray(seconds) * 1000.0, q))
