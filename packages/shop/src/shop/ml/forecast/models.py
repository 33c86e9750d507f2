"""The candidate forecasters; each maps a history to ``horizon`` point forecasts.

- seasonal naive: the last season repeated (the baseline every figure is compared with);
- ETS: statsmodels' Holt-Winters with a damped additive trend and additive season;
- GBM: scikit-learn's histogram gradient boosting on lags and season position, forecasting
  recursively (each step's prediction becomes the next step's lag).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from threadpoolctl import threadpool_limits

Forecaster = Callable[[np.ndarray, int, int], np.ndarray]


def seasonal_naive(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Repeat the last ``season`` values."""
    last = history[-season:]
    return np.array([last[i % season] for i in range(horizon)], dtype=np.float64)


def ets(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Damped-trend additive Holt-Winters; seasonal naive when under two seasons of data."""
    if len(history) < 2 * season + 2:
        return seasonal_naive(history, horizon, season)
    with warnings.catch_warnings():
        # Convergence chatter from the optimiser on short or flat series, not an error.
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(
            history, trend="add", damped_trend=True, seasonal="add", seasonal_periods=season,
            initialization_method="estimated",
        ).fit()  # fmt: skip
    return np.asarray(fit.forecast(horizon), dtype=np.float64)


def lag_set(season: int) -> list[int]:
    """Lags the GBM sees: the last season, and the same point two seasons back."""
    return [*list(range(1, season + 1)), 2 * season]


def lag_features(values: np.ndarray, t: int, season: int) -> np.ndarray:
    """Features to predict ``values[t]`` from ``values[:t]``."""
    lags = [values[t - lag] for lag in lag_set(season)]
    recent = values[max(0, t - season) : t]
    return np.array([*lags, recent.mean(), float(t % season)], dtype=np.float32)


def fit_gbm(history: np.ndarray, season: int, seed: int = 0) -> HistGradientBoostingRegressor:
    """Fit the lag model on every point that has all its lags."""
    first = 2 * season
    x = np.vstack([lag_features(history, t, season) for t in range(first, len(history))])
    y = history[first:]
    model = HistGradientBoostingRegressor(max_iter=100, learning_rate=0.08, random_state=seed)
    # One thread: on a few hundred rows OpenMP start-up and spinning on a shared machine
    # cost several times the work itself.
    with threadpool_limits(1):
        model.fit(x, y)
    return model


def gbm(history: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Recursive multi-step forecast of the lag model; seasonal naive when data is short."""
    if len(history) < 4 * season + 10:
        return seasonal_naive(history, horizon, season)
    model = fit_gbm(history, season)
    values = list(history.astype(np.float64))
    with threadpool_limits(1):
        for _ in range(horizon):
            x = lag_features(np.asarray(values), len(values), season)
            values.append(float(model.predict(x[None, :])[0]))
    return np.asarray(values[len(history) :])


FORECASTERS: dict[str, Forecaster] = {"seasonal_naive": seasonal_naive, "ets": ets, "gbm": gbm}
