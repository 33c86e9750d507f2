"""Real series shipped inside statsmodels, to prove the forecasters off synthetic data.

``elec_equip``: euro-area electrical equipment orders, monthly. ``co2``: Mauna Loa CO2,
weekly with gaps, averaged to months (gaps filled forward). Both are read from the files in
the statsmodels package; nothing is downloaded.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from shop.ml.forecast.data import Series


def elec_equip() -> Series:
    """Monthly new orders index, season 12."""
    from statsmodels.datasets import elec_equip as ds

    frame = ds.load().data
    values = frame.iloc[:, 0].to_numpy(dtype=np.float64)
    return Series("elec_equip", frame.index[0].date(), values, 12)


def co2() -> Series:
    """Monthly mean CO2 (ppm), season 12."""
    from statsmodels.datasets import co2 as ds

    frame = ds.load().data.resample("MS").mean().ffill()
    values = frame["co2"].to_numpy(dtype=np.float64)
    start = frame.index[0]
    return Series("co2", dt.date(start.year, start.month, 1), values, 12)
