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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from prometheus_client import CollectorRegistry

from aquaculture.classifier.metrics_prom import PredictionMetrics
from aquaculture.classifier.preprocess import to_input
from aquaculture.classifier.registry import active_dir
from forgekit.errors import ServiceUnavailable
from forgekit.inference import InferenceRuntime, ServedModel

if TYPE_CHECKING:
    from aquaculture.runtime import AquacultureRuntime

log = logging.getLogger("aquaculture.classifier")

MODEL_NAME = "fish-classifier"


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
        card = json.loads((directory / "card.json").read_text())
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
    """Loads the model when the runtime starts (every role), closes it when it stops."""

    consumer_group: str | None = None

    def __init__(self, runtime: AquacultureRuntime) -> None:
        self.runtime = runtime
        self.inference: InferenceRuntime | None = None

    async def start(self) -> None:
        """Store, verify, load and warm up the model; without one, uploads answer 503."""
        directory = active_dir(self.runtime.app_settings)
        if not (directory / "model.onnx").is_file():
            log.warning("no model in %s: observations cannot be classified", directory)
            return
        card = ModelCard.read(directory)
        # The app's registry (``/metrics``) when an app set one; a worker keeps its own.
        registry = self.runtime.metrics_registry or CollectorRegistry()
        self.inference = InferenceRuntime(registry=registry, namespace="aquaculture")
        stored = await self.runtime.storage.put_bytes((directory / "model.onnx").read_bytes())
        if stored.key != card.sha256:
            raise RuntimeError(f"{directory}/model.onnx is not the file its card describes")
        warm = {"image": np.zeros((1, 3, card.input_size, card.input_size), np.float32)}
        served = await self.inference.load(
            MODEL_NAME, card.version, self.runtime.storage, stored.key, warm_up_inputs=warm
        )
        chunk = self.inference.settings.max_batch_size
        self.runtime.classifier = Classifier(card, served, self.runtime.app_settings.top_k, chunk,
                                             PredictionMetrics(registry))  # fmt: skip

    async def stop(self) -> None:
        """Stop the batcher."""
        self.runtime.classifier = None
        if self.inference is not None:
            await self.inference.close()


def classifier_of(runtime: AquacultureRuntime) -> Classifier:
    """The runtime's classifier; 503 when no model is loaded."""
    if runtime.classifier is None:
        raise ServiceUnavailable("No classification model is loaded on this server.")
    return runtime.classifier


def register(runtime: AquacultureRuntime) -> ClassifierService:
    """Add the classifier service to the runtime's background services."""
    service = ClassifierService(runtime)
    runtime.services.append(service)
    return service
