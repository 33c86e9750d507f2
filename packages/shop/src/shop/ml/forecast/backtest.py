"""Model choice by rolling-origin backtest, prediction intervals from its errors, and the
held-out evaluation against seasonal naive.

For each series: the last ``horizon`` points are held out; on the rest, ``folds`` origins
each forecast ``horizon`` ahead with every candidate, and the candidate with the lowest mean
MASE wins. Its backtest errors, scaled by the square root of the step, give interval widths
(empirical quantiles, no normality assumed). Then the winner is refit on all the history
and scored on the held-out points: MASE at each reporting horizon and interval coverage,
next to seasonal naive's MASE on the same points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from shop.ml.forecast.data import Series
from shop.ml.forecast.models import FORECASTERS, seasonal_naive
from shop.ml.metrics import interval_coverage, mase


@dataclass(frozen=True)
class Forecast:
    """Point forecast with lower/upper bounds at ``level``."""

    model: str
    point: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float


@dataclass
class SeriesReport:
    """Held-out figures of one series."""

    key: str
    chosen: str
    backtest_mase: dict[str, float]
    mase: dict[int, float] = field(default_factory=dict)
    naive_mase: dict[int, float] = field(default_factory=dict)
    coverage: float = 0.0


def backtest(
    history: np.ndarray, horizon: int, season: int, folds: int, candidates: Sequence[str]
) -> tuple[dict[str, float], dict[str, list[np.ndarray]]]:
    """Mean MASE of each candidate over ``folds`` origins, and its errors per fold."""
    scores: dict[str, list[float]] = {name: [] for name in candidates}
    errors: dict[str, list[np.ndarray]] = {name: [] for name in candidates}
    for fold in range(folds, 0, -1):
        origin = len(history) - fold * horizon
        if origin <= 2 * season:
            continue
        train, actual = history[:origin], history[origin : origin + horizon]
        for name in candidates:
            pred = FORECASTERS[name](train, len(actual), season)
            scores[name].append(mase(actual, pred, train, season))
            errors[name].append(actual - pred)
    means = {n: float(np.mean(s)) if s else float("inf") for n, s in scores.items()}
    return means, errors


def interval_widths(errors: list[np.ndarray], horizon: int, level: float) -> np.ndarray:
    """Half-widths per step from backtest errors scaled by ``sqrt(step)``."""
    if not errors:
        return np.zeros(horizon)
    scaled = np.concatenate([np.abs(e) / np.sqrt(np.arange(1, len(e) + 1)) for e in errors])
    return float(np.quantile(scaled, level)) * np.sqrt(np.arange(1, horizon + 1))


def forecast_series(
    history: np.ndarray, horizon: int, season: int, *, folds: int = 3, level: float = 0.9,
    candidates: Sequence[str] = tuple(FORECASTERS),
) -> tuple[Forecast, dict[str, float]]:  # fmt: skip
    """Choose by backtest, refit on all of ``history`` and forecast with intervals."""
    scores, errors = backtest(history, horizon, season, folds, candidates)
    chosen = min(scores, key=lambda n: scores[n])
    point = FORECASTERS[chosen](history, horizon, season)
    width = interval_widths(errors[chosen], horizon, level)
    lower = np.maximum(point - width, 0.0) if history.min() >= 0 else point - width
    return Forecast(chosen, point, lower, point + width, level), scores


def evaluate_series(
    series: Series, horizon: int, reported: Sequence[int], *, folds: int = 3,
    candidates: Sequence[str] = tuple(FORECASTERS),
) -> tuple[Forecast, SeriesReport]:  # fmt: skip
    """Hold out the last ``horizon`` points and measure the chosen model on them."""
    history, actual = series.values[:-horizon], series.values[-horizon:]
    fc, scores = forecast_series(history, horizon, series.season, folds=folds,
                                 candidates=candidates)  # fmt: skip
    naive = seasonal_naive(history, horizon, series.season)
    report = SeriesReport(series.key, fc.model, scores)
    for h in reported:
        report.mase[h] = mase(actual[:h], fc.point[:h], history, series.season)
        report.naive_mase[h] = mase(actual[:h], naive[:h], history, series.season)
    report.coverage = interval_coverage(actual, fc.lower, fc.upper)
    return fc, report


def summarize(reports: Sequence[SeriesReport], h: int) -> dict[str, float]:
    """Mean MASE of the chosen models and of seasonal naive at horizon ``h``, and coverage."""
    return {
        "mase": float(np.mean([r.mase[h] for r in reports])),
        "naive_mase": float(np.mean([r.naive_mase[h] for r in reports])),
        "coverage": float(np.mean([r.coverage for r in reports])),
    }


def reorder_suggestion(fc: Forecast, lead_time: int, on_hand: float) -> dict[str, float]:
    """Units to order now so stock covers the lead time at the interval's upper bound."""
    lead = min(lead_time, len(fc.point))
    expected = float(fc.point[:lead].sum())
    safety = float((fc.upper[:lead] - fc.point[:lead]).sum())
    return {
        "expected_demand": round(expected, 2),
        "safety_stock": round(safety, 2),
        "on_hand": on_hand,
        "order_quantity": float(max(0, int(np.ceil(expected + safety - on_hand)))),
    }
