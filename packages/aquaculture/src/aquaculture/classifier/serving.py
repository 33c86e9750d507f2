"""The served classifier: the ONNX model and its card, through the kit's inference runtime.

The model file goes into the kit's object storage (content-addressed), and
:class:`forgekit.inference.InferenceRuntime` verifies it by sha256, warms it up and serves it
behind dynamic batching (a full queue answers 503 with ``Retry-After``). Every role loads it:
the API classifies small uploads, the worker large batches.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from prometheus_client import CollectorRegistry
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from aquaculture import events
from aquaculture.classifier.metrics_prom import (
    PredictionMetrics,
    expose_in_process,
    withdraw_from_process,
)
from aquaculture.classifier.preprocess import to_input
from aquaculture.classifier.registry import LiveModel, live_model
from forgekit.errors import ServiceUnavailable
from forgekit.events import Event
from forgekit.inference import InferenceRuntime, InferenceSettings, ServedModel
from forgekit.live import LiveHub, LiveSubscriber, create_live_hub

if TYPE_CHECKING:
    from aquaculture.runtime import AquacultureRuntime

log = logging.getLogger("aquaculture.classifier")

MODEL_NAME = "fish-classifier"
#: The consumer relaying ``aquaculture.model.changed`` to the hub (group ``batches``: the
#: worker role every deployment runs; the embedded API runs all groups).
MODEL_CONSUMER = "batches.models"
#: The live-hub topic every process listens to for model changes.
MODEL_TOPIC = "aquaculture.model"


@dataclass(frozen=True)
class Prediction:
    """What the model says about one image."""

    species: str
    confidence: float
    unsure: bool
    top_k: list[dict[str, Any]]
    model_version: str


@dataclass(frozen=True)
class ModelCard:
    """The facts of the served model the API needs (the full card is ``card.json``)."""

    version: str
    sha256: str
    classes: list[str]
    input_size: int
    unsure_threshold: float
    synthetic: bool
    raw: dict[str, Any]
    #: Out-of-distribution floor: a largest logit under it (rarer than 1 in 20 on validation)
    #: means the image looks like nothing the model learnt, however peaked the softmax is.
    min_max_logit: float | None = None

    @classmethod
    def read(cls, directory: Path) -> ModelCard:
        """Read ``card.json`` of a model directory."""
        return cls.of(json.loads((directory / "card.json").read_text()))

    @classmethod
    def of(cls, card: dict[str, Any]) -> ModelCard:
        """The facts of a card's JSON."""
        return cls(
            version=card["version"],
            sha256=card["sha256"],
            classes=list(card["classes"]),
            input_size=int(card["input_size"]),
            unsure_threshold=float(card["calibration"]["unsure_threshold"]),
            synthetic=bool(card["data"]["synthetic"]),
            raw=card,
            min_max_logit=card["calibration"].get("min_max_logit"),
        )


def predictions(
    probs: np.ndarray, card: ModelCard, top_k: int, logits: np.ndarray | None = None
) -> list[Prediction]:
    """Top-k species of each row of calibrated probabilities; ``unsure`` under the calibrated
    threshold, or when the largest logit is under the card's out-of-distribution floor."""
    out = []
    floor = card.min_max_logit
    strange = (logits.max(axis=1) < floor if logits is not None and floor is not None
               else np.zeros(len(probs), dtype=bool))  # fmt: skip
    for row, odd in zip(probs, strange, strict=True):
        order = np.argsort(-row)[: max(1, min(top_k, len(card.classes)))]
        top = [{"species": card.classes[i], "probability": round(float(row[i]), 4)} for i in order]
        confidence = float(row[order[0]])
        out.append(
            Prediction(
                species=top[0]["species"],
                confidence=round(confidence, 4),
                unsure=bool(confidence < card.unsure_threshold or odd),
                top_k=top,
                model_version=card.version,
            )
        )
    return out


class Classifier:
    """Classifies (N, S, S, 3) uint8 images with the served model."""

    def __init__(
        self, card: ModelCard, served: ServedModel, top_k: int, chunk: int,
        metrics: PredictionMetrics,
    ) -> None:  # fmt: skip
        self.card, self.served, self.top_k, self.chunk = card, served, top_k, chunk
        self.metrics = metrics

    async def classify(self, pixels: np.ndarray) -> list[Prediction]:
        """Predictions for each image, in order. Requests of ``chunk`` rows go to the batcher
        together, so other requests' images share their batches."""
        parts = [pixels[i : i + self.chunk] for i in range(0, len(pixels), self.chunk)]
        outs = await asyncio.gather(*(self.served.infer({"image": to_input(p)}) for p in parts))
        probs = np.concatenate([o["probabilities"] for o in outs])
        logits = np.concatenate([o["logits"] for o in outs])
        out = predictions(probs, self.card, self.top_k, logits)
        self.metrics.record(out)
        return out


class ClassifierService:
    """Loads the live model when the runtime starts (every role), and switches to another
    without a restart when a promotion or rollback changes the registry's live version.

    Event-driven: ``aquaculture.model.changed`` is consumed once (group ``batches``) and
    re-published on the kit's live hub (Redis pub/sub, or in-process when embedded), which
    every process listens to; each then compares the registry's version stamp with the one
    it serves and loads the new version if they differ. Pub/sub is fire-and-forget, so the
    stamp is also checked every ``model_check_interval_s``.
    """

    consumer_group: str | None = None

    def __init__(self, runtime: AquacultureRuntime) -> None:
        self.runtime = runtime
        self.inference: InferenceRuntime | None = None
        self.hub: LiveHub = create_live_hub(runtime.settings.redis_url,
                                            runtime.settings.effective_redis_prefix)  # fmt: skip
        self.stamp: str | None = None
        self._registry: CollectorRegistry | None = None
        self._worker_registry: CollectorRegistry | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Load the live model, then follow the registry (hub messages and a periodic check)."""
        # The app's registry (``/metrics``) when an app set one; a worker keeps its own,
        # served on its metrics port (``--metrics-port``) for as long as it runs.
        registry = self.runtime.metrics_registry
        if registry is None:
            registry = self._worker_registry = CollectorRegistry()
            expose_in_process(registry)
        self._registry = registry
        settings = InferenceSettings()
        delay = self.runtime.app_settings.inference_max_delay_ms
        if delay is not None:
            settings = settings.model_copy(update={"max_queue_delay_ms": delay})
        self.inference = InferenceRuntime(settings, registry=registry, namespace="aquaculture")
        await self.refresh()
        self.hub.add(MODEL_TOPIC, _Nudge(self))
        try:
            await self.hub.ensure_listening()
        except (OSError, TimeoutError, RedisError):
            # Serving must not wait for Redis: the periodic check still follows the registry.
            log.warning("model changes: live hub unavailable; checking every %.0fs only",
                        self.runtime.app_settings.model_check_interval_s)  # fmt: skip
        self._spawn(self._check_loop())

    async def refresh(self) -> bool:
        """Serve the registry's live version if it is not the one served; True if switched."""
        async with self._lock:
            async with self.runtime.db.session() as session:
                live = await live_model(session, self.runtime.app_settings)
            if live.stamp == self.stamp and self.runtime.classifier is not None:
                return False
            await self._load(live)
            self.stamp = live.stamp
            log.info("serving model %s", live.card["version"])
            return True

    async def _load(self, live: LiveModel) -> None:
        assert self.inference is not None and self._registry is not None
        card = ModelCard.of(live.card)
        storage = self.runtime.storage
        if live.key is None:
            assert live.directory is not None
            path = live.directory / "model.onnx"
            if not path.is_file():
                log.warning("no model in %s: observations cannot be classified", live.directory)
                return
            stored = await storage.put_bytes(path.read_bytes())
            if stored.key != card.sha256:
                raise RuntimeError(f"{path} is not the file its card describes")
        warm = {"image": np.zeros((1, 3, card.input_size, card.input_size), np.float32)}
        served = await self.inference.load(
            MODEL_NAME, card.version, storage, card.sha256, warm_up_inputs=warm
        )
        chunk = self.inference.settings.max_batch_size
        metrics = (self.runtime.classifier.metrics if self.runtime.classifier is not None
                   else PredictionMetrics(self._registry))  # fmt: skip
        # One assignment: a request sees the old classifier or the new one, never half.
        self.runtime.classifier = Classifier(card, served, self.runtime.app_settings.top_k,
                                             chunk, metrics)  # fmt: skip
        self.runtime.model_loaded.set()

    def nudge(self) -> None:
        """Check the registry soon (a hub message said the live version changed)."""
        self._spawn(self._refresh_logged())

    async def _refresh_logged(self) -> None:
        try:
            await self.refresh()
        except Exception:
            # The served model stays; the periodic check tries again.
            log.exception("switching the served model failed")

    async def _check_loop(self) -> None:
        while True:
            await asyncio.sleep(self.runtime.app_settings.model_check_interval_s)
            await self._refresh_logged()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def announce(self, event: Event) -> None:
        """Tell every process (through the hub) that the live version changed."""
        changed = events.MODEL_CHANGED.parse(event)
        await self.hub.publish(MODEL_TOPIC, {"version": changed.version})

    async def stop(self) -> None:
        """Stop following the registry and the batcher."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.hub.remove(MODEL_TOPIC, _Nudge(self))
        await self.hub.stop()
        self.runtime.classifier = None
        self.runtime.model_loaded.clear()
        if self._worker_registry is not None:
            withdraw_from_process(self._worker_registry)
        if self.inference is not None:
            await self.inference.close()


@dataclass(frozen=True)
class _Nudge(LiveSubscriber):
    """The hub's subscriber of model changes in this process."""

    service: ClassifierService

    def offer(self, message: dict[str, Any]) -> None:
        """Check the registry (the message only says that something changed)."""
        self.service.nudge()


def classifier_of(runtime: AquacultureRuntime) -> Classifier:
    """The runtime's classifier; 503 when no model is loaded."""
    if runtime.classifier is None:
        raise ServiceUnavailable("No classification model is loaded on this server.")
    return runtime.classifier


def register(runtime: AquacultureRuntime) -> ClassifierService:
    """Add the classifier service to the runtime's background services, and the consumer
    that relays model changes to every process."""
    service = ClassifierService(runtime)
    runtime.services.append(service)

    async def on_changed(event: Event, session: AsyncSession) -> None:
        await service.announce(event)

    runtime.events.subscribe(MODEL_CONSUMER, [events.MODEL_CHANGED], on_changed)
    return service
