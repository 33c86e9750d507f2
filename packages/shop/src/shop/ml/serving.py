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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.engine import Database
from forgekit.inference import InferenceRuntime, ServedModel
from forgekit.storage import ObjectStorage
from shop.ml.bundle import read_npz
from shop.ml.fraud.data import OrderRow
from shop.ml.fraud.features import FEATURE_NAMES, CustomerHistory
from shop.ml.fraud.model import Decision, decide
from shop.ml.fraud.rules import RuleHit, RulesEngine
from shop.ml.models import MlModelVersion
from shop.ml.recs.data import Catalogue
from shop.ml.recs.popularity import popular_in_category
from shop.ml.sentiment.data import LABELS
from shop.ml.training import repository
from shop.ml.training.trainers import KINDS

log = logging.getLogger("shop.ml")

REFRESH_S = 30.0
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
        """The forest's 0..1 score of one order."""
        out = await self.served.infer({"features": features[None, :].astype(np.float32)})
        offset = float(self.card["decision"]["forest_offset"])
        anomaly = -(float(np.asarray(out["scores"]).ravel()[0]) + offset)
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
        """(n, 3) probabilities in :data:`LABELS` order."""
        batch = np.asarray(texts, dtype=object).reshape(-1, 1)
        out = await self.served.infer({"text": batch})
        return np.asarray(out["probabilities"], dtype=np.float64)


class MlServing:
    """The process's served models; refreshed from the registry."""

    def __init__(self, db: Database, storage: ObjectStorage, registry: CollectorRegistry) -> None:
        self.db, self.storage = db, storage
        self.inference = InferenceRuntime(registry=registry, namespace="shop")
        self.recs: RecsModel | None = None
        self.fraud: FraudModelServed | None = None
        self.sentiment: SentimentModel | None = None
        self.forecasts: dict[str, Any] | None = None
        self.forecast_version: int | None = None
        self.forecast_synthetic = True
        self._loaded: dict[str, int] = {}
        self._checked = 0.0

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
        elif kind == "sentiment":
            warm = {"text": np.array([["warm up"]], dtype=object)}
            self.sentiment = SentimentModel(version.version, await self._serve(kind, version, warm))
        else:
            self.forecasts = json.loads(await self.storage.read(version.files["forecasts.json"]))
            self.forecast_version = version.version
            self.forecast_synthetic = _synthetic(version)

    async def score_order(
        self, order: OrderRow, history: CustomerHistory, engine: RulesEngine
    ) -> tuple[Verdict, np.ndarray]:
        """Score one order given the customer's earlier orders and the live rules."""
        features = history.features(order)
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


def label_probabilities(row: np.ndarray) -> dict[str, float]:
    """Probabilities by label name."""
    return {label: round(float(v), 4) for label, v in zip(LABELS, row, strict=True)}
