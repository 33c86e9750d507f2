"""The served ML models of one process, loaded from the registry's active versions.

Every model with an ONNX graph is served through :class:`forgekit.inference.InferenceRuntime`
(sha256-verified, warmed up, dynamically batched). The active versions are checked again at
most every :data:`REFRESH_S` seconds, so a promotion or a rollback reaches every API and
worker process without a restart.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.cache import Cache
from forgekit.db.engine import Database
from forgekit.inference import InferenceRuntime, ServedModel
from forgekit.storage import ObjectStorage
from shop.ml.bundle import read_npz
from shop.ml.features.drift import DriftMonitor, psi_gauge
from shop.ml.features.online import FraudFeatureStore
from shop.ml.fraud.data import OrderRow
from shop.ml.fraud.features import FEATURE_NAMES, CustomerState, order_features
from shop.ml.fraud.model import Decision, decide
from shop.ml.fraud.rules import RuleHit, RulesEngine
from shop.ml.models import MlModelVersion
from shop.ml.recs.data import Catalogue
from shop.ml.recs.popularity import popular_in_category
from shop.ml.training import repository
from shop.ml.training.trainers import KINDS

log = logging.getLogger("shop.ml")

REFRESH_S = 30.0
#: Seconds a process keeps the fraud rules it read: staff's edits reach the other processes
#: within this time (this process at once), and scoring reads no rules from the database.
RULES_TTL_S = 5.0
#: Live feature vectors kept for drift, and how often (in scorings) the PSI is recomputed.
DRIFT_WINDOW, DRIFT_EVERY = 500, 50
#: Without a fraud model, the rules alone decide with these thresholds.
RULES_ONLY_REVIEW, RULES_ONLY_DECLINE = 0.4, 0.8


@dataclass
class RecsModel:
    """The ALS scorer with its ids, fallback popularity and bought-together lists."""

    version: int
    served: ServedModel
    side: dict[str, np.ndarray]
    synthetic: bool = True
    customers: dict[str, int] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.customers = {str(c): i for i, c in enumerate(self.side["customer_ids"])}
        self.products = {str(p): i for i, p in enumerate(self.side["product_ids"])}

    def _ids(self, indices: Any) -> list[str]:
        ids = self.side["product_ids"]
        return [str(ids[int(i)]) for i in indices if int(i) >= 0]

    async def recommend(self, customer: str | None, product: str | None, k: int) -> dict[str, Any]:
        """Top-k for a known customer (ALS), else popular in the product's category."""
        if customer is not None and customer in self.customers:
            u = self.customers[customer]
            penalty = np.where(self.side["bought"][u], -1e9, 0.0).astype(np.float32)[None, :]
            user = self.side["user_factors"][u][None, :].astype(np.float32)
            out = await self.served.infer({"user": user, "penalty": penalty})
            items = self._ids(out["items"][0][:k])
            return {"items": items, "source": "als", "model_version": self.version}
        cat = Catalogue(self.side["category"])
        category = int(cat.category[self.products[product]]) if product in self.products else -1
        items = self._ids(popular_in_category(self.side["popularity"], cat, category, k))
        return {"items": items, "source": "popular_in_category", "model_version": self.version}

    def bought_together(self, product: str, k: int) -> list[str]:
        """Products bought by the same customers as ``product`` (lift > 1 first)."""
        if product not in self.products:
            return []
        return self._ids(self.side["together"][self.products[product]][:k])


@dataclass
class FraudModelServed:
    """The forest (ONNX), its calibration and thresholds from the card."""

    version: int
    served: ServedModel
    reference: np.ndarray
    card: dict[str, Any]

    async def model_score(self, features: np.ndarray) -> float:
        """The forest's 0..1 score of one order.

        The cached ONNX session runs in the event loop, not through the batcher: a 50-tree
        forest on one row takes well under a millisecond, less than the batcher's window and
        thread hop would add to checkout's wait.
        """
        (raw,) = self.served.session.run(["scores"], {"features": features[None, :]})
        offset = float(self.card["decision"]["forest_offset"])
        anomaly = -(float(np.asarray(raw).ravel()[0]) + offset)
        return float(np.searchsorted(self.reference, anomaly, side="right") / len(self.reference))


@dataclass(frozen=True)
class Verdict:
    """A fraud verdict: combined score, parts, decision and the rules that fired."""

    score: float
    model_score: float | None
    rules_score: float
    decision: Decision
    hits: list[RuleHit]
    model_version: int | None


@dataclass
class SentimentModel:
    """The TF-IDF pipeline (ONNX)."""

    version: int
    served: ServedModel

    async def probabilities(self, texts: list[str]) -> np.ndarray:
        """(n, 3) probabilities in :data:`shop.ml.sentiment.data.LABELS` order."""
        batch = np.asarray(texts, dtype=object).reshape(-1, 1)
        out = await self.served.infer({"text": batch})
        return np.asarray(out["probabilities"], dtype=np.float64)


class FraudMetrics:
    """Serving metrics of fraud scoring on the app's registry (``/metrics``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.latency = Histogram(
            "shop_fraud_scoring_seconds",
            "Time to score one order at checkout (features, rules, model, case stored)",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=registry,
        )
        self.decisions = Counter(
            "shop_fraud_decisions", "Fraud verdicts at checkout", ["decision"], registry=registry
        )
        self.psi = psi_gauge(registry)


class MlServing:
    """The process's served models, the fraud feature store and the serving metrics;
    refreshed from the registry."""

    def __init__(
        self, db: Database, storage: ObjectStorage, registry: CollectorRegistry, cache: Cache
    ) -> None:
        self.db, self.storage = db, storage
        self.inference = InferenceRuntime(registry=registry, namespace="shop")
        self.features = FraudFeatureStore(cache)
        self.metrics = FraudMetrics(registry)
        self.drift: DriftMonitor | None = None
        self._live: deque[np.ndarray] = deque(maxlen=DRIFT_WINDOW)
        self._scored = 0
        self._rules: tuple[float, RulesEngine] | None = None
        self.recs: RecsModel | None = None
        self.fraud: FraudModelServed | None = None
        self.sentiment: SentimentModel | None = None
        self.forecasts: dict[str, Any] | None = None
        self.forecast_version: int | None = None
        self.forecast_synthetic = True
        self._loaded: dict[str, int] = {}
        self._checked = 0.0
        #: True once a refresh has loaded what the registry holds: until then a missing model
        #: may only be one still loading (the first refresh awaits the database and storage).
        self.ready = False

    async def refresh(self, session: AsyncSession | None = None, *, force: bool = False) -> None:
        """Load the active version of each kind if it changed (at most every REFRESH_S).

        A request passes its own session: on SQLite a second one would wait for its lock.
        """
        now = time.monotonic()
        if not force and now - self._checked < REFRESH_S:
            return
        self._checked = now
        if session is None:
            async with self.db.session() as own:
                active = {k: await repository.active_version(own, k) for k in KINDS}
        else:
            active = {k: await repository.active_version(session, k) for k in KINDS}
        for kind, version in active.items():
            if version is not None and self._loaded.get(kind) != version.version:
                await self._load(kind, version)
                self._loaded[kind] = version.version
        self.ready = True

    async def _serve(self, kind: str, version: MlModelVersion, warm: dict[str, Any]) -> ServedModel:
        return await self.inference.load(
            f"shop-{kind}", str(version.version), self.storage, version.files["model.onnx"],
            sha256=version.files["model.onnx"], warm_up_inputs=warm,
        )  # fmt: skip

    async def _load(self, kind: str, version: MlModelVersion) -> None:
        log.info("serving %s v%s", kind, version.version)
        if kind == "recs":
            side = read_npz(await self.storage.read(version.files["side.npz"]))
            f, p = side["user_factors"].shape[1], side["item_factors"].shape[0]
            warm = {"user": np.zeros((1, f), np.float32), "penalty": np.zeros((1, p), np.float32)}
            served = await self._serve(kind, version, warm)
            self.recs = RecsModel(version.version, served, side, _synthetic(version))
        elif kind == "fraud":
            side = read_npz(await self.storage.read(version.files["side.npz"]))
            warm = {"features": np.zeros((1, len(FEATURE_NAMES)), np.float32)}
            served = await self._serve(kind, version, warm)
            self.fraud = FraudModelServed(version.version, served, side["reference"], version.card)
            self._watch_drift(side)
        elif kind == "sentiment":
            warm = {"text": np.array([["warm up"]], dtype=object)}
            self.sentiment = SentimentModel(version.version, await self._serve(kind, version, warm))
        else:
            self.forecasts = json.loads(await self.storage.read(version.files["forecasts.json"]))
            self.forecast_version = version.version
            self.forecast_synthetic = _synthetic(version)

    def _watch_drift(self, side: dict[str, np.ndarray]) -> None:
        # Versions trained before the sample was kept have no reference: no drift figures.
        sample = side.get("train_features")
        self._live.clear()
        self.drift = None if sample is None else DriftMonitor(
            {n: sample[:, i] for i, n in enumerate(FEATURE_NAMES)}, gauge=self.metrics.psi
        )  # fmt: skip

    async def rules(
        self, load: Callable[[], Awaitable[list[Any]]], *, now: float | None = None
    ) -> RulesEngine:
        """The rules engine, read through ``load`` at most every :data:`RULES_TTL_S`."""
        now = time.monotonic() if now is None else now
        if self._rules is None or now - self._rules[0] > RULES_TTL_S:
            self._rules = (now, RulesEngine(await load()))
        return self._rules[1]

    def forget_rules(self) -> None:
        """Drop the cached rules (staff changed one in this process)."""
        self._rules = None

    def observe(self, verdict: Verdict, features: np.ndarray, seconds: float) -> None:
        """Count a verdict, time it, and every :data:`DRIFT_EVERY` scorings refresh the PSI."""
        self.metrics.latency.observe(seconds)
        self.metrics.decisions.labels(verdict.decision.value).inc()
        self._live.append(features)
        self._scored += 1
        if self.drift is not None and self._scored % DRIFT_EVERY == 0:
            live = np.vstack(self._live)
            self.drift.observe({n: live[:, i] for i, n in enumerate(FEATURE_NAMES)})

    async def score_order(
        self, order: OrderRow, state: CustomerState | None, engine: RulesEngine
    ) -> tuple[Verdict, np.ndarray]:
        """Score one order given the customer's state before it and the live rules."""
        features = order_features(order, state)
        hits = engine.hits(features)
        rules = min(1.0, sum(h.weight for h in hits))
        if self.fraud is None:
            decision = decide(rules, RULES_ONLY_REVIEW, RULES_ONLY_DECLINE)
            return Verdict(rules, None, rules, decision, hits, None), features
        model = await self.fraud.model_score(features)
        d = self.fraud.card["decision"]
        score = d["model_weight"] * model + (1 - d["model_weight"]) * rules
        decision = decide(score, d["review_threshold"], d["decline_threshold"])
        return Verdict(score, model, rules, decision, hits, self.fraud.version), features

    async def close(self) -> None:
        """Stop the batchers."""
        await self.inference.close()


def _synthetic(version: MlModelVersion) -> bool:
    return bool(version.card["data"]["synthetic"])
