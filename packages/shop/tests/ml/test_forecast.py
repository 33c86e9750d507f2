"""Forecasting: backtest choice, intervals, MASE against seasonal naive, real series."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from shop.ml.forecast.backtest import (
    evaluate_series,
    forecast_series,
    reorder_suggestion,
    summarize,
)
from shop.ml.forecast.data import daily_series
from shop.ml.forecast.decompose import decompose
from shop.ml.forecast.models import FORECASTERS, seasonal_naive
from shop.ml.forecast.real import co2, elec_equip
from shop.ml.forecast.synth import generate


def test_daily_series_zero_fills_a_shared_calendar() -> None:
    rows = [
        {"product": "p", "warehouse": "w", "day": "2026-01-01", "quantity": 2},
        {"product": "p", "warehouse": "w", "day": dt.date(2026, 1, 1), "quantity": 1},
        {"product": "q", "warehouse": "w", "day": "2026-01-03", "quantity": 4},
    ]
    series = {s.key: s.values.tolist() for s in daily_series(rows)}
    assert series == {"p@w": [3.0, 0.0, 0.0], "q@w": [0.0, 0.0, 4.0]}


def test_seasonal_naive_repeats_the_last_season() -> None:
    assert seasonal_naive(np.array([1.0, 2, 3, 4, 5]), 4, 2).tolist() == [4, 5, 4, 5]


@pytest.mark.parametrize("name", sorted(FORECASTERS))
def test_every_forecaster_gives_the_horizon(name: str) -> None:
    history = generate(products=1, warehouses=1, days=200, seed=4)[0].values
    out = FORECASTERS[name](history, 14, 7)
    assert out.shape == (14,) and np.isfinite(out).all()


def test_chosen_models_beat_seasonal_naive_on_synthetic_demand() -> None:
    series = generate(products=3, warehouses=1, days=300, seed=5)
    reports = [evaluate_series(s, 28, (7, 14, 28), folds=2)[1] for s in series]
    summary = summarize(reports, 28)
    assert summary["mase"] < summary["naive_mase"]
    assert summary["coverage"] > 0.6


def test_intervals_contain_the_point_and_feed_reorders() -> None:
    history = generate(products=1, warehouses=1, days=200, seed=6)[0].values
    fc, scores = forecast_series(history, 14, 7, folds=2)
    assert set(scores) == set(FORECASTERS)
    assert (fc.lower <= fc.point).all() and (fc.point <= fc.upper).all()
    suggestion = reorder_suggestion(fc, lead_time=7, on_hand=10)
    assert suggestion["order_quantity"] >= 0
    assert suggestion["safety_stock"] > 0


def test_decomposition_finds_the_weekly_season() -> None:
    values = generate(products=1, warehouses=1, days=200, seed=7)[0].values
    assert decompose(values, 7)["seasonal_strength"] > 0.3


def test_real_series_ship_with_statsmodels() -> None:
    for series in (elec_equip(), co2()):
        assert series.season == 12 and len(series.values) > 100
        assert np.isfinite(series.values).all()
