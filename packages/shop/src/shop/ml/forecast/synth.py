"""Seeded synthetic daily demand (the figures on it are synthetic).

Each (product, warehouse) series has a level, a slow trend, a weekly profile (weekend peaks
for some products, weekday peaks for others), a yearly wave, occasional promotion spikes
and Poisson noise: counts, as real unit sales are.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from shop.ml.forecast.data import Series


def generate(
    products: int = 6, warehouses: int = 2, days: int = 400, seed: int = 0
) -> list[Series]:
    """``products x warehouses`` daily series of ``days`` days."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    out = []
    for p in range(products):
        weekly = np.exp(0.4 * rng.normal(size=7))
        for w in range(warehouses):
            level = rng.uniform(3, 30)
            trend = 1 + rng.uniform(-0.3, 0.6) * t / days
            yearly = 1 + 0.25 * np.sin(2 * np.pi * (t + rng.integers(0, 365)) / 365.25)
            promo = np.ones(days)
            for start in rng.integers(0, days - 5, size=max(1, days // 90)):
                promo[start : start + 4] *= rng.uniform(1.5, 2.5)
            rate = level * trend * yearly * weekly[t % 7] * promo
            values = rng.poisson(rate).astype(np.float64)
            out.append(Series(f"p{p}@w{w}", dt.date(2025, 1, 1), values, 7))
    return out
