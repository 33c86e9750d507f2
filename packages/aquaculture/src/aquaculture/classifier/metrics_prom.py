"""Prometheus metrics of predictions: per species, confidence, and the unsure share.

The share of "unsure" predictions is the drift signal: when photos stop looking like the
training data, confidence drops and the share rises. PromQL:
``rate(aquaculture_unsure_predictions_total[1d]) / rate(aquaculture_predictions_total[1d])``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.metrics_core import Metric

if TYPE_CHECKING:
    from aquaculture.classifier.serving import Prediction

CONFIDENCE_BUCKETS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


class PredictionMetrics:
    """Counters and a histogram in the app's registry (``/metrics``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.predictions = Counter("aquaculture_predictions", "Predictions by species, model",
                                   ["species", "model_version"], registry=registry)  # fmt: skip
        self.unsure = Counter("aquaculture_unsure_predictions",
                              "Predictions under the model's calibrated threshold",
                              ["model_version"], registry=registry)  # fmt: skip
        self.confidence = Histogram("aquaculture_prediction_confidence",
                                    "Top probability of each prediction",
                                    buckets=CONFIDENCE_BUCKETS, registry=registry)  # fmt: skip

    def record(self, predictions: Sequence[Prediction]) -> None:
        """Count a batch of predictions."""
        for p in predictions:
            self.predictions.labels(p.species, p.model_version).inc()
            self.confidence.observe(p.confidence)
            # Touched even when sure, so the series exists (at 0) and the share is defined.
            self.unsure.labels(p.model_version).inc(1 if p.unsure else 0)


class _WorkerRegistries:
    """A collector in the process's default registry (the one ``aquaculture worker
    --metrics-port`` serves) that yields the metrics of each running worker runtime's own
    registry. Own registries, not the default one, because one process may build several
    runtimes (tests do) and metric names may be registered only once per registry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._registries: list[CollectorRegistry] = []

    def add(self, registry: CollectorRegistry) -> None:
        with self._lock:
            self._registries.append(registry)

    def remove(self, registry: CollectorRegistry) -> None:
        with self._lock:
            if registry in self._registries:
                self._registries.remove(registry)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            registries = list(self._registries)
        for registry in registries:
            yield from registry.collect()

    def describe(self) -> list[Metric]:
        # Nothing to declare up front: the default registry then skips its duplicate check,
        # which a collector whose metrics come and go with runtimes could not pass.
        return []


_WORKERS = _WorkerRegistries()
REGISTRY.register(_WORKERS)


def expose_in_process(registry: CollectorRegistry) -> None:
    """Serve ``registry``'s metrics on the worker's metrics port (the default registry)."""
    _WORKERS.add(registry)


def withdraw_from_process(registry: CollectorRegistry) -> None:
    """Stop serving ``registry`` (its runtime stopped)."""
    _WORKERS.remove(registry)
