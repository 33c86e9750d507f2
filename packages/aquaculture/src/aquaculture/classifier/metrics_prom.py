"""Prometheus metrics of predictions: per species, confidence, and the unsure share.

The share of "unsure" predictions is the drift signal: when photos stop looking like the
training data, confidence drops and the share rises. PromQL:
``rate(aquaculture_unsure_predictions_total[1d]) / rate(aquaculture_predictions_total[1d])``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram

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
            if p.unsure:
                self.unsure.labels(p.model_version).inc()
