"""Model cards: what a model is for, what it was trained and measured on, and its limits."""

from __future__ import annotations

import datetime as dt
from typing import Any

PURPOSE = {
    "recs": "Rank products a customer is likely to view, cart or buy next (implicit ALS, "
    "category cold start); popular-in-category fallback for unknown customers.",
    "fraud": "Score orders at checkout before capture: IsolationForest on order features "
    "mixed with staff-editable rules into approve / review / decline.",
    "sentiment": "Label review text negative / neutral / positive (TF-IDF word and character "
    "n-grams, logistic regression) and per aspect.",
    "forecast": "Daily demand per product and warehouse, 7/14/28 days ahead with 90% "
    "intervals; model chosen per series by backtest (seasonal naive, ETS, GBM on lags).",
}
LIMITS = {
    "recs": "Needs a customer's past interactions; new customers get the fallback.",
    "fraud": "Unsupervised forest: it flags the unusual, which is not always fraud; review "
    "decisions need staff and their feedback.",
    "sentiment": "Trained on star labels, which are noisy; English only (other languages are "
    "detected and labelled with low confidence).",
    "forecast": "Intervals come from backtest errors; promotions and stock-outs not in the "
    "history are not foreseen.",
}


def model_card(
    kind: str,
    *,
    metrics: dict[str, float],
    window: dict[str, Any],
    params: dict[str, Any],
    synthetic: bool,
    source: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The card of a trained model (version and hashes are added by the registry)."""
    data = "SYNTHETIC data from the seeded generator" if synthetic else "the shop's own data"
    if source:
        data = f"{data}: {source}"
    return {
        "kind": kind,
        "purpose": PURPOSE[kind],
        "limitations": LIMITS[kind],
        "data": {"synthetic": synthetic, "source": data, "window": window},
        "metrics": {k: round(float(v), 6) for k, v in metrics.items()},
        "params": params,
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
