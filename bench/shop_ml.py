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
Fraud latency is checkout's path, the service function ``shop.ml.fraud.service.score``
(online feature store, cached rules, the ONNX forest run in the event loop, the case row
committed) in-process and as ``POST /api/v1/fraud/score`` over HTTP to an app served by
uvicorn in this process, on SQLite + in-process cache and on PostgreSQL + Redis (a scratch
database; the online store pre-filled as checkout would have left it after the earlier
orders). The load average is printed with each figure. Nothing here is asserted.

    .venv/bin/python bench/shop_ml.py [--requests 300] [--seed 0] [--only fraud]
        [--checkout-backends embedded,real]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

# bench/shop.py (part 1's benchmark) would shadow the `shop` package: drop this directory.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402
from shop.ml.bundle import Candidate, read_npz  # noqa: E402
from shop.ml.forecast.backtest import evaluate_series, forecast_series  # noqa: E402
from shop.ml.forecast.real import co2, elec_equip  # noqa: E402
from shop.ml.fraud.features import CustomerHistory, featurize  # noqa: E402
from shop.ml.sentiment.aspects import aggregate, aspect_clauses  # noqa: E402
from shop.ml.sentiment.language import detect  # noqa: E402
from shop.ml.serving import RecsModel, SentimentModel  # noqa: E402
from shop.ml.training.data import synthetic  # noqa: E402
from shop.ml.training.trainers import train  # noqa: E402

from forgekit.inference import InferenceRuntime  # noqa: E402
from forgekit.storage.local import LocalStorage  # noqa: E402

# The shared helpers, once `shop` is imported (so bench/shop.py can no longer shadow it).
sys.path.append(str(Path(__file__).resolve().parent))
from _servers import PG_ADMIN, REDIS_URL, _pg  # noqa: E402


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


async def bench_fraud(n: int, seed: int) -> None:
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
    for backend in BACKENDS:
        await bench_checkout_scoring(cand, data, n, backend)


BACKENDS: list[str] = ["embedded", "real"]


def _kit(tmp: str, db_url: str, backend: str) -> Any:
    from forgekit.settings import Environment, ForgeSettings
    from forgekit.testing.fixtures import FAST_PASSWORD_HASHING

    extra: dict[str, Any] = {}
    if backend == "real":
        extra = {"redis_url": REDIS_URL, "redis_prefix": f"bench:{Path(tmp).name}:"}
    return ForgeSettings(
        _env_file=None, env=Environment.TEST, app_name="bench-shop-ml", data_dir=Path(tmp),
        database_url=db_url, log_level="WARNING", log_json=False, rate_limit_enabled=False,
        database_pool_size=4, **FAST_PASSWORD_HASHING, **extra,
    )  # fmt: skip


@contextlib.asynccontextmanager
async def _database(tmp: str, backend: str) -> AsyncIterator[str]:
    """SQLite in ``tmp``, or a scratch PostgreSQL database dropped afterwards."""
    if backend != "real":
        yield f"sqlite+aiosqlite:///{tmp}/shop.db"
        return
    name = f"bench_shop_ml_{Path(tmp).name.lower().replace('-', '_')}"
    await _pg(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        await _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _order_json(o: Any) -> dict[str, Any]:
    iso = lambda t: dt.datetime.fromtimestamp(t, dt.UTC).isoformat()  # noqa: E731
    return {"order_id": o.order_id, "customer": o.customer, "amount_minor": o.amount_minor,
            "currency": o.currency, "placed_at": iso(o.time), "device": o.device,
            "address": o.address, "bill_country": o.bill_country,
            "ship_country": o.ship_country, "ip_country": o.ip_country,
            "account_created": iso(o.account_created)}  # fmt: skip


async def _prefill(ml: Any, earlier: list[Any], customers: set[str]) -> None:
    """The online store as checkout would have left it after the earlier orders."""
    history = CustomerHistory()
    featurize(earlier, history)
    for c in customers:
        state = history.state(c)
        if state is not None:
            await ml.features.put(c, state)


async def bench_checkout_scoring(cand: Candidate, data: Any, n: int, backend: str) -> None:
    """What checkout waits for: ``shop.ml.fraud.service.score`` (online features, cached
    rules, ONNX forest, the case row committed), called in-process and as
    ``POST /api/v1/fraud/score`` over HTTP (uvicorn on a local port, in this process)."""
    import uvicorn
    from shop.app import create_app
    from shop.product import PRODUCT
    from shop.settings import ShopSettings

    with tempfile.TemporaryDirectory() as tmp:
        async with _database(tmp, backend) as url:
            await asyncio.to_thread(PRODUCT.upgrade, url)
            app = create_app(_kit(tmp, url, backend), ShopSettings(
                _env_file=None, demo_catalogue=False, payments_fake=False))  # fmt: skip
            config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
            server = uvicorn.Server(config)
            task = asyncio.create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.05)
            port = server.servers[0].sockets[0].getsockname()[1]
            try:
                await _checkout_scoring(app.state.runtime, cand, data, n, backend, port)
            finally:
                server.should_exit = True
                await task


async def _round_trips(runtime: Any, n: int) -> None:
    """What the backends alone cost now: the store's read and a committed one-row write."""
    from sqlalchemy import text

    async def read(i: int) -> None:
        await runtime.ml.features.get("c1")

    async def write(i: int) -> None:
        async with runtime.db.transaction() as session:
            await session.execute(text("UPDATE fraud_rules SET weight = weight WHERE 1 = 0"))
            await session.execute(text("SELECT 1"))

    show("  of which: one online-store read", await timed(n, read))
    show("  of which: one database transaction (2 statements)", await timed(n, write))


async def _checkout_scoring(
    runtime: Any, cand: Candidate, data: Any, n: int, backend: str, port: int
) -> None:
    from shop.ml.fraud import service as fraud
    from shop.ml.training.service import register
    from shop.testing import staff_user

    async with runtime.db.transaction() as session:
        await register(session, runtime.storage, cand, data)
    await runtime.ml.refresh(force=True)
    orders = data.orders[-2 * n :]
    await _prefill(runtime.ml, data.orders[: -2 * n], {o.customer for o in orders})

    async def in_process(i: int) -> None:
        async with runtime.db.session() as session:
            await fraud.score(session, runtime.ml, orders[i])

    label = "SQLite, in-process cache" if backend == "embedded" else "PostgreSQL, Redis"
    print(f"checkout scoring on {label}:")
    show("service function, in-process", await timed(n, in_process),
         f" (target p95 < 20 ms; load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    await _round_trips(runtime, n)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        staff = await staff_user(client, runtime)

        async def over_http(i: int) -> None:
            resp = await client.post("/api/v1/fraud/score", headers=staff.headers,
                                     json=_order_json(orders[n + i]))  # fmt: skip
            resp.raise_for_status()

        show("POST /api/v1/fraud/score over HTTP", await timed(n, over_http),
             f" (load average {os.getloadavg()[0]:.1f})")  # fmt: skip


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
    parser.add_argument("--only", default="recs,fraud,sentiment,forecast",
                        help="sections to run (comma-separated)")
    parser.add_argument("--checkout-backends", default="embedded,real",
                        help="backends of the checkout scoring figures: embedded, real")
    args = parser.parse_args()
    only = set(args.only.split(","))
    BACKENDS[:] = args.checkout_backends.split(",")
    load = os.getloadavg()
    print(f"# shop ML services (seed {args.seed}); {os.cpu_count()} CPUs, load average "
          f"{load[0]:.1f} / {load[1]:.1f} (per-request latencies on a shared machine)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalStorage(tmp, signing_key="bench-shop-ml-signing-key", base_url="")
        runtime = InferenceRuntime(registry=CollectorRegistry(), namespace="bench")
        try:
            if "recs" in only:
                await bench_recs(runtime, storage, args.requests, args.seed)
            if "fraud" in only:
                await bench_fraud(args.requests, args.seed)
            if "sentiment" in only:
                await bench_sentiment(runtime, storage, args.requests, args.seed)
        finally:
            await runtime.close()
    if "forecast" in only:
        bench_forecast(args.seed)


if __name__ == "__main__":
    asyncio.run(main())
