"""One trainer per model kind: fit on the past, measure on the held-out window, export.

``train_<kind>(data)`` returns a :class:`Candidate` (files, card, metrics and the primary
metric promotion compares); ``rescore(kind, files, data)`` measures an existing version's
files on the same held-out window, so the registry compares like with like.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np
import onnxruntime as ort
from sklearn.metrics import f1_score

from shop.ml.bundle import Candidate, npz_bytes, read_npz
from shop.ml.forecast.backtest import evaluate_series, forecast_series, summarize
from shop.ml.forecast.data import Series
from shop.ml.fraud.evaluate import evaluate as evaluate_fraud
from shop.ml.fraud.features import featurize
from shop.ml.fraud.model import FraudParams
from shop.ml.fraud.rules import DEFAULT_RULES, RulesEngine
from shop.ml.metrics import precision_recall_at_k, roc_auc
from shop.ml.onnx_export import recs_graph, sklearn_to_onnx
from shop.ml.recs.als import AlsParams
from shop.ml.recs.cobuy import cobuy_matrix
from shop.ml.recs.evaluate import bought_mask, evaluate, relevant_items, top_k
from shop.ml.recs.popularity import popularity
from shop.ml.sentiment.data import LABELS
from shop.ml.sentiment.model import SentimentParams, train_sentiment
from shop.ml.training.cards import model_card
from shop.ml.training.data import ForecastData, FraudData, RecsData, SentimentData

KINDS = ("recs", "fraud", "sentiment", "forecast")
RECS_MAX_K = 50
FORECAST_HORIZONS = (7, 14, 28)
SENTIMENT_TEST_SHARE = 0.2
#: Training feature rows kept with a fraud model as the reference of drift monitoring.
DRIFT_SAMPLE = 5000


def _session(model: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def train_recs(data: RecsData, params: AlsParams = AlsParams()) -> Candidate:
    """ALS on the past, precision@10 against popularity on the next period."""
    model, report = evaluate(data.interactions, data.catalogue, params=params)
    inter = data.interactions
    lift = cobuy_matrix(inter)
    together = np.argsort(-lift, axis=1)[:, :10]
    together = np.where(np.take_along_axis(lift, together, axis=1) > 0, together, -1)
    files = {
        "model.onnx": recs_graph(model.item_factors, RECS_MAX_K),
        "side.npz": npz_bytes(
            user_factors=model.user_factors, item_factors=model.item_factors,
            customer_ids=np.asarray(data.customer_ids), product_ids=np.asarray(data.product_ids),
            category=data.catalogue.category, popularity=popularity(inter),
            bought=bought_mask(inter), together=together.astype(np.int64),
        ),
    }  # fmt: skip
    metrics = report.as_dict()
    window = {"cutoff": report.cutoff, "events": len(inter), "test_share": 0.2}
    card = model_card("recs", metrics=metrics, window=window, params=asdict(params),
                      synthetic=data.synthetic, source=data.source)  # fmt: skip
    return Candidate("recs", files, card, metrics, "precision", True, window, asdict(params))


def _rescore_recs(files: dict[str, bytes], data: RecsData) -> float:
    side = read_npz(files["side.npz"])
    train, test = data.interactions.split_at(data.interactions.cutoff_for(0.2))
    bought = bought_mask(train)
    relevant = relevant_items(test, bought)
    # Map today's dense indices onto the stored model's by external id.
    users = {str(c): i for i, c in enumerate(side["customer_ids"])}
    items = {str(p): i for i, p in enumerate(side["product_ids"])}
    item_map = np.array([items.get(p, -1) for p in data.product_ids])
    lists: dict[int, list[int]] = {}
    for u in relevant:
        stored = users.get(data.customer_ids[u])
        if stored is None:
            continue
        scores = np.full(len(item_map), -np.inf)
        ok = item_map >= 0
        scores[ok] = side["item_factors"][item_map[ok]] @ side["user_factors"][stored]
        lists[u] = top_k(scores[None, :], bought[u][None, :], 10)[0].tolist()
    return precision_recall_at_k(lists, {u: relevant[u] for u in lists}, 10)[0]


def train_fraud(data: FraudData, params: FraudParams = FraudParams()) -> Candidate:
    """Forest + rules on the earlier orders, AUC against rules alone on the later ones."""
    model, report = evaluate_fraud(data.orders, params=params)
    n_features = int(model.forest.n_features_in_)
    files = {
        "model.onnx": sklearn_to_onnx(model.forest, "features", n_features),
        "side.npz": npz_bytes(reference=model.reference,
                              train_features=_drift_sample(data.orders)),
    }  # fmt: skip
    metrics = report.as_dict()
    window = {"orders": len(data.orders), "test_share": 0.3,
              "test_from": data.orders[int(len(data.orders) * 0.7)].time}  # fmt: skip
    extra = {"decision": {"review_threshold": model.review_threshold,
                          "decline_threshold": model.decline_threshold,
                          "model_weight": model.model_weight,
                          "forest_offset": float(model.forest.offset_)},
             "rules": [r.as_dict() for r in DEFAULT_RULES]}  # fmt: skip
    card = model_card("fraud", metrics=metrics, window=window, params=asdict(params),
                      synthetic=data.synthetic, source=data.source, extra=extra)  # fmt: skip
    return Candidate("fraud", files, card, metrics, "auc", True, window, asdict(params))


def _drift_sample(orders: list[Any], limit: int = DRIFT_SAMPLE) -> np.ndarray:
    """Feature rows of the training window (evenly thinned): drift's reference values."""
    train = featurize(orders)[: int(len(orders) * 0.7)]
    step = max(1, len(train) // limit)
    return np.asarray(train[::step][:limit], dtype=np.float32)


def _rescore_fraud(files: dict[str, bytes], card: dict[str, Any], data: FraudData) -> float:
    features = featurize(data.orders)
    cut = int(len(data.orders) * 0.7)
    x, y = features[cut:], np.array([bool(o.fraud) for o in data.orders[cut:]])
    decision = card["decision"]
    (raw,) = _session(files["model.onnx"]).run(["scores"], {"features": x})
    reference = read_npz(files["side.npz"])["reference"]
    anomaly = -(np.asarray(raw).ravel() + decision["forest_offset"])
    model_s = np.searchsorted(reference, anomaly, side="right") / len(reference)
    rules_s = RulesEngine(DEFAULT_RULES).scores(x)
    w = decision["model_weight"]
    return roc_auc(y, w * model_s + (1 - w) * rules_s)


def train_sentiment_model(
    data: SentimentData, params: SentimentParams = SentimentParams()
) -> Candidate:
    """TF-IDF + logistic regression on the first reviews, macro-F1 vs VADER on the rest."""
    from shop.ml.sentiment.vader import vader_labels

    cut = int(len(data.texts) * (1 - SENTIMENT_TEST_SHARE))
    pipe = train_sentiment(data.texts[:cut], data.labels[:cut], params)
    test_x, test_y = data.texts[cut:], data.labels[cut:]
    metrics = {
        "macro_f1": float(f1_score(test_y, pipe.predict(test_x), average="macro")),
        "vader_macro_f1": float(f1_score(test_y, vader_labels(test_x), average="macro")),
        "test_reviews": float(len(test_y)),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # skl2onnx's generic char-n-gram notice
        onnx_model = sklearn_to_onnx(pipe, "text", None, text=True)
    window = {"reviews": len(data.texts), "test_share": SENTIMENT_TEST_SHARE}
    card = model_card("sentiment", metrics=metrics, window=window, params=asdict(params),
                      synthetic=data.synthetic, source=data.source,
                      extra={"labels": list(LABELS)})  # fmt: skip
    return Candidate("sentiment", {"model.onnx": onnx_model}, card, metrics, "macro_f1", True,
                     window, asdict(params))  # fmt: skip


def _rescore_sentiment(files: dict[str, bytes], data: SentimentData) -> float:
    cut = int(len(data.texts) * (1 - SENTIMENT_TEST_SHARE))
    texts = np.asarray(data.texts[cut:], dtype=object).reshape(-1, 1)
    (labels,) = _session(files["model.onnx"]).run(["label"], {"text": texts})
    return float(f1_score(data.labels[cut:], list(labels), average="macro"))


def _future(series: Series, horizon: int, model: str, folds: int) -> dict[str, Any]:
    """The served forecast: the chosen model refit on the whole series, with intervals."""
    fc, _ = forecast_series(series.values, horizon, series.season, folds=folds, candidates=[model])
    start = series.start + dt.timedelta(days=len(series.values))
    return {"start": start.isoformat(), "level": fc.level,
            "point": np.round(fc.point, 3).tolist(), "lower": np.round(fc.lower, 3).tolist(),
            "upper": np.round(fc.upper, 3).tolist()}  # fmt: skip


def train_forecast(data: ForecastData, folds: int = 2) -> Candidate:
    """Backtest choice per series, MASE against seasonal naive on the last 28 days."""
    horizon = max(FORECAST_HORIZONS)
    results = [evaluate_series(s, horizon, FORECAST_HORIZONS, folds=folds) for s in data.series]
    reports = [r for _, r in results]
    metrics: dict[str, float] = {}
    for h in FORECAST_HORIZONS:
        for name, value in summarize(reports, h).items():
            metrics[f"{name}_{h}d" if name != "coverage" else "coverage_90"] = value
    per_series = {
        r.key: {"model": r.chosen, "mase": r.mase, "naive_mase": r.naive_mase,
                "coverage": r.coverage, "backtest": r.backtest_mase,
                "forecast": _future(s, horizon, r.chosen, folds)}
        for s, r in zip(data.series, reports, strict=True)
    }  # fmt: skip
    window = {"series": len(data.series), "held_out_days": horizon}
    card = model_card("forecast", metrics=metrics, window=window, params={"folds": folds},
                      synthetic=data.synthetic, source=data.source,
                      extra={"series": per_series})  # fmt: skip
    files = {"forecasts.json": json.dumps(per_series).encode()}
    return Candidate("forecast", files, card, metrics, "mase_28d", False, window,
                     {"folds": folds})  # fmt: skip


def train(kind: str, data: Any, params: Any = None) -> Candidate:
    """Train the model of ``kind`` on ``data`` (see :mod:`shop.ml.training.data`); ``params``
    is the kind's parameter object (the defaults when None)."""
    trainers: dict[str, Callable[..., Candidate]] = {
        "recs": train_recs, "fraud": train_fraud, "sentiment": train_sentiment_model,
        "forecast": train_forecast,
    }  # fmt: skip
    if kind not in trainers:
        raise ValueError(f"unknown model kind {kind!r}")
    return trainers[kind](data) if params is None else trainers[kind](data, params)


def rescore(kind: str, files: dict[str, bytes], card: dict[str, Any], data: Any) -> float:
    """An existing version's primary metric on ``data``'s held-out window."""
    if kind == "recs":
        return _rescore_recs(files, data)
    if kind == "fraud":
        return _rescore_fraud(files, card, data)
    if kind == "sentiment":
        return _rescore_sentiment(files, data)
    if kind == "forecast":
        # The forecaster is refit per series on every run: its "version" is its settings.
        return train_forecast(data, int(card["params"]["folds"])).score
    raise ValueError(f"unknown model kind {kind!r}")
