"""Read any table of the stated shape (CSV with a header row) into a trainer's data.

recs: ``customer,product,kind,time[,category]``; fraud: the :class:`OrderRow` fields and
``fraud``; sentiment: ``text,stars``; forecast: ``product,warehouse,day,quantity``. A bad
row raises ``ValueError`` naming its line, so nothing half-read is trained on.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from shop.ml.forecast.data import daily_series
from shop.ml.fraud.data import OrderRow, sorted_orders
from shop.ml.recs.data import Catalogue, Interactions
from shop.ml.sentiment.data import texts_and_labels
from shop.ml.training.data import ForecastData, FraudData, RecsData, SentimentData


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def _checked(path: Path, convert: Callable[[dict[str, str]], Any]) -> list[Any]:
    out = []
    for line, row in enumerate(_rows(path), start=2):
        try:
            out.append(convert(row))
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path.name} line {line}: {exc!r}") from None
    if not out:
        raise ValueError(f"{path.name} has no rows")
    return out


def load_recs(path: Path) -> RecsData:
    """Interactions with external ids mapped to dense indices."""
    rows = _checked(path, dict)
    customers = sorted({r["customer"] for r in rows})
    products = sorted({r["product"] for r in rows})
    c_index = {c: i for i, c in enumerate(customers)}
    p_index = {p: i for i, p in enumerate(products)}
    categories: dict[str, int] = {}
    category = np.full(len(products), -1, dtype=np.int64)
    for r in rows:
        if r.get("category"):
            category[p_index[r["product"]]] = categories.setdefault(r["category"], len(categories))
    mapped = [{**r, "customer": c_index[r["customer"]], "product": p_index[r["product"]]}
              for r in rows]  # fmt: skip
    inter = Interactions.from_rows(mapped, n_customers=len(customers), n_products=len(products))
    return RecsData(inter, Catalogue(category), customers, products, synthetic=False)


def _order(row: dict[str, str]) -> OrderRow:
    fraud = row.get("fraud", "")
    label = fraud.lower() in ("1", "true", "yes") if fraud else None
    return OrderRow.from_mapping({**row, "fraud": label})


def load_fraud(path: Path) -> FraudData:
    """Labelled orders, sorted by time."""
    return FraudData(sorted_orders(_checked(path, _order)), synthetic=False)


def load_sentiment(path: Path) -> SentimentData:
    """Review texts and star labels."""
    # Each row through texts_and_labels alone, so a bad star rating names its line.
    pairs = _checked(path, lambda row: texts_and_labels([row]))
    texts = [t for (ts, _) in pairs for t in ts]
    labels = [lab for (_, ls) in pairs for lab in ls]
    return SentimentData(texts, labels, synthetic=False)


def load_forecast(path: Path) -> ForecastData:
    """Daily series per product and warehouse."""
    return ForecastData(daily_series(_checked(path, dict)), synthetic=False)


LOADERS: dict[str, Callable[[Path], Any]] = {
    "recs": load_recs,
    "fraud": load_fraud,
    "sentiment": load_sentiment,
    "forecast": load_forecast,
}
