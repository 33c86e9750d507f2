"""Seasonal decomposition (STL) and the strength of trend and season (Wang, Smith, Hyndman)."""

from __future__ import annotations

import numpy as np
from statsmodels.tsa.seasonal import STL


def decompose(values: np.ndarray, season: int) -> dict[str, float | list[float]]:
    """Trend, seasonal and residual components with their strengths (0 none … 1 all)."""
    result = STL(values, period=season, robust=True).fit()
    resid, seasonal, trend = result.resid, result.seasonal, result.trend
    var_r = float(np.var(resid))
    strength_t = max(0.0, 1 - var_r / float(np.var(trend + resid) or 1.0))
    strength_s = max(0.0, 1 - var_r / float(np.var(seasonal + resid) or 1.0))
    return {
        "trend_strength": round(strength_t, 4),
        "seasonal_strength": round(strength_s, 4),
        "seasonal_profile": [round(float(v), 4) for v in seasonal[-season:]],
    }
