"""The shop's ML services measured against their baselines in one run, with serving latency.

- recommendations: precision@10, recall@10 and coverage of implicit ALS against popularity,
  time-based split (train on the first 80 % of events, test on the rest);
- fraud: ROC AUC of forest + rules against the rules alone (and the forest alone) on the
  later 30 % of orders, precision and recall at the review threshold;
- sentiment: macro-F1 of TF-IDF + logistic regression against VADER on held-out reviews;
- forecasting: MASE at 7/14/28 days against seasonal naive on synthetic daily demand, and at
  12 months on statsmodels' real ``elec_equip`` and ``co2`` series, with interval coverage.

Recommendations, fraud and sentiment data are SYNTHETIC (the seeded generators in
``shop.ml.*.synth``); ``elec_equip`` and ``co2`` are real. Serving latency is per single
request through ``forgekit.inference`` (ONNX Runtime, one thread, dynamic batching with its
default 5 ms window) as the API runs it, sequential requests; the forecast API serves the
precomputed forecasts, and its on-demand figure here is one series' backtest choice + fit.
Nothing here is asserted.

    .venv/bin/python bench/shop_ml.py [--requests 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

# bench/shop.py (part 1's benchmark) would shadow the `shop` package: drop this directory.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402
from shop.ml.bundle import Candidate, read_npz  # noqa: E402
from shop.ml.forecast.backtest import evaluate_series, forecast_series  # noqa: E402
from shop.ml.forecast.real import co2, elec_equip  # noqa: E402
from shop.ml.fraud.features import CustomerHistory  # noqa: E402
from shop.ml.fraud.rules import RulesEngine  # noqa: E402
from shop.ml.sentiment.aspects import aggregate, aspect_clauses  # noqa: E402
from shop.ml.sentiment.language import detect  # noqa: E402
from shop.ml.serving import FraudModelServed, RecsModel, SentimentModel  # noqa: E402
from shop.ml.training.data import synthetic  # noqa: E402
from shop.ml.training.trainers import train  # noqa: E402

from forgekit.inference import InferenceRuntime  # noqa: E402
from forgekit.storage.local import LocalStorage  # noqa: E402


def pct(values: list[float], q: float) -> float:
    """Percentile in milliseconds of durations in seconds."""
    return float(np.percentile(np.asarray(values) * 1000, q))


async def timed(n: int, call: Callable[[int], Awaitable[Any]]) -> tuple[float, float, float]:
    """p50 and p95 wall time (ms) of ``n`` sequential calls, and p95 of the process CPU time
    each used (ms): on a shared, overloaded machine the wall time mostly measures waiting."""
    durations, cpu = [], []
    for i in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        await call(i)
        durations.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return pct(durations, 50), pct(durations, 95), pct(cpu, 95)


def show(label: str, figures: tuple[float, float, float], note: str = "") -> None:
    """One latency line."""
    p50, p95, cpu95 = figures
    print(f"serving ({label}): p50 {p50:.2f} ms, p95 {p95:.2f} ms wall; p95 {cpu95:.2f} ms CPU"
          f"{note}")  # fmt: skip


def trained(kind: str, seed: int) -> tuple[Candidate, Any, float]:
    """Train one kind on its synthetic data; returns the candidate, the data, seconds."""
    data = synthetic(kind, seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cand = train(kind, data)
    return cand, data, time.perf_counter() - start


async def serve(runtime: InferenceRuntime, storage: LocalStorage, cand: Candidate,
                warm: dict[str, Any]) -> Any:  # fmt: skip
    """Store the ONNX file and load it through the kit's inference runtime."""
    stored = await storage.put_bytes(cand.files["model.onnx"])
    return await runtime.load(cand.kind, "bench", storage, stored.key, sha256=stored.key,
                              warm_up_inputs=warm)  # fmt: skip


async def bench_recs(rt: InferenceRuntime, st: LocalStorage, n: int, seed: int) -> None:
    """ALS vs popularity, and recommendation latency."""
    cand, data, secs = trained("recs", seed)
    m = cand.metrics
    print(f"\n## recommendations (SYNTHETIC: {data.interactions.n_customers} customers, "
          f"{data.interactions.n_products} products, {len(data.interactions)} events; "
          f"trained in {secs:.1f} s)")  # fmt: skip
    print(f"{'':12}{'precision@10':>14}{'recall@10':>11}{'coverage':>10}")
    print(f"{'ALS':12}{m['precision']:>14.4f}{m['recall']:>11.4f}{m['coverage']:>10.3f}")
    print(f"{'popularity':12}{m['baseline_precision']:>14.4f}{m['baseline_recall']:>11.4f}"
          f"{m['baseline_coverage']:>10.3f}")  # fmt: skip
    print(f"ratio ALS / popularity, precision@10: {m['precision'] / m['baseline_precision']:.2f}x "
          f"on {int(m['test_customers'])} test customers")  # fmt: skip
    side = read_npz(cand.files["side.npz"])
    f, p = side["user_factors"].shape[1], side["item_factors"].shape[0]
    warm = {"user": np.zeros((1, f), np.float32), "penalty": np.zeros((1, p), np.float32)}
    model = RecsModel(1, await serve(rt, st, cand, warm), side)
    ids = data.customer_ids
    show(
        "ALS top-10, one customer",
        await timed(n, lambda i: model.recommend(ids[i % len(ids)], None, 10)),
    )
    show(
        "fallback, new customer",
        await timed(n, lambda i: model.recommend(None, data.product_ids[i % p], 10)),
    )


async def bench_fraud(rt: InferenceRuntime, st: LocalStorage, n: int, seed: int) -> None:
    """Forest + rules vs rules alone, and scoring latency."""
    cand, data, secs = trained("fraud", seed)
    m = cand.metrics
    print(f"\n## fraud scoring (SYNTHETIC: {len(data.orders)} orders with injected fraud; "
          f"trained in {secs:.1f} s)")  # fmt: skip
    print(f"test window: {int(m['test_orders'])} later orders, {int(m['test_fraud'])} fraudulent")
    print(f"ROC AUC  forest+rules {m['auc']:.4f} | rules alone {m['rules_auc']:.4f} | "
          f"forest alone {m['model_auc']:.4f}")  # fmt: skip
    print(f"at the review threshold ({m['review_threshold']:.3f}): precision "
          f"{m['precision_at_review']:.3f}, recall {m['recall_at_review']:.3f}")  # fmt: skip
    side = read_npz(cand.files["side.npz"])
    warm = {"features": np.zeros((1, 13), np.float32)}
    model = FraudModelServed(1, await serve(rt, st, cand, warm), side["reference"], cand.card)
    history, engine = CustomerHistory(), RulesEngine()
    for order in data.orders[:-n]:
        history.add(order)
    tail = data.orders[-n:]

    async def score(i: int) -> None:
        features = history.features(tail[i])
        engine.hits(features)
        await model.model_score(features)

    show("features + rules + forest, one order", await timed(n, score), " (target p95 < 20 ms)")


async def bench_sentiment(rt: InferenceRuntime, st: LocalStorage, n: int, seed: int) -> None:
    """TF-IDF + LR vs VADER, and classification latency."""
    cand, data, secs = trained("sentiment", seed)
    m = cand.metrics
    print(f"\n## review sentiment (SYNTHETIC: {len(data.texts)} reviews labelled by stars; "
          f"trained in {secs:.1f} s)")  # fmt: skip
    ratio = m["macro_f1"] / m["vader_macro_f1"]
    print(f"macro-F1 on {int(m['test_reviews'])} held-out reviews: TF-IDF+LR {m['macro_f1']:.4f} "
          f"| VADER {m['vader_macro_f1']:.4f} | ratio {ratio:.2f}x")  # fmt: skip
    warm = {"text": np.array([["warm up"]], dtype=object)}
    model = SentimentModel(1, await serve(rt, st, cand, warm))
    texts = data.texts[-n:]
    show("label, one review", await timed(n, lambda i: model.probabilities([texts[i]])))

    async def full(i: int) -> None:
        # The API's path: the review and its aspect clauses in one model call, then language.
        tagged = aspect_clauses(texts[i])
        proba = await model.probabilities([texts[i], *(c for c, _ in tagged)])
        aggregate(tagged, proba[1:])
        detect(texts[i])

    show("label + language + aspects", await timed(n, full))


def bench_forecast(seed: int) -> None:
    """MASE vs seasonal naive on synthetic and real series; on-demand latency."""
    cand, data, secs = trained("forecast", seed)
    m = cand.metrics
    print(f"\n## demand forecasting (SYNTHETIC: {len(data.series)} product x warehouse daily "
          f"series of {len(data.series[0].values)} days; trained in {secs:.1f} s)")  # fmt: skip
    print(f"{'horizon':10}{'chosen':>10}{'seasonal naive':>16}{'ratio':>8}")
    for h in (7, 14, 28):
        ours, naive = m[f"mase_{h}d"], m[f"naive_mase_{h}d"]
        print(f"{h:>4} days {ours:>10.3f}{naive:>16.3f}{ours / naive:>8.2f}")
    print(f"90% interval coverage on the held-out 28 days: {m['coverage_90']:.3f}")
    chosen = [s["model"] for s in cand.card["series"].values()]
    print("models chosen by backtest: "
          + ", ".join(f"{k} {chosen.count(k)}" for k in sorted(set(chosen))))  # fmt: skip
    print("\nreal series shipped in statsmodels (held-out last 12 months, MASE):")
    for series in (elec_equip(), co2()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, r = evaluate_series(series, 12, (12,), folds=3)
        print(f"{series.key:12} chosen {r.chosen:15} {r.mase[12]:.3f} | seasonal naive "
              f"{r.naive_mase[12]:.3f} | ratio {r.mase[12] / r.naive_mase[12]:.2f} | "
              f"coverage {r.coverage:.2f}")  # fmt: skip
    durations = []
    for s in data.series:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            forecast_series(s.values, 28, s.season, folds=2)
        durations.append(time.perf_counter() - start)
    print(f"on-demand forecast of one series (backtest choice + fit): p50 "
          f"{pct(durations, 50):.0f} ms, p95 {pct(durations, 95):.0f} ms; the API serves the "
          f"precomputed forecasts")  # fmt: skip


async def main() -> None:
    """Run every section."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"# shop ML services (seed {args.seed}); {os.cpu_count()} CPUs, load average "
          f"{load[0]:.1f} / {load[1]:.1f} (per-request latencies on a shared machine)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalStorage(tmp, signing_key="bench-shop-ml-signing-key", base_url="")
        runtime = InferenceRuntime(registry=CollectorRegistry(), namespace="bench")
        try:
            await bench_recs(runtime, storage, args.requests, args.seed)
            await bench_fraud(runtime, storage, args.requests, args.seed)
            await bench_sentiment(runtime, storage, args.requests, args.seed)
        finally:
            await runtime.close()
    bench_forecast(args.seed)


if __name__ == "__main__":
    asyncio.run(main())
