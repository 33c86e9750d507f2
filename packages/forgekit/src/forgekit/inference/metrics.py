"""Prometheus metrics of the inference runtime, in the app's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

INFERENCE_LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5,
)  # fmt: skip
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class InferenceMetrics:
    """``<namespace>_inference_*`` metrics; register them in the registry of
    :class:`~forgekit.observability.metrics.AppMetrics` so ``/metrics`` shows them."""

    def __init__(self, registry: CollectorRegistry, namespace: str) -> None:
        ns = namespace.replace("-", "_")
        self.latency = Histogram(
            "inference_latency_seconds",
            "Time from a request's arrival in the queue to its result",
            ["model", "version"],
            namespace=ns,
            buckets=INFERENCE_LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch_size = Histogram(
            "inference_batch_size",
            "Requests run together in one batch",
            ["model", "version"],
            namespace=ns,
            buckets=BATCH_SIZE_BUCKETS,
            registry=registry,
        )
        self.queue_depth = Gauge(
            "inference_queue_depth",
            "Requests waiting for a batch",
            ["model"],
            namespace=ns,
            registry=registry,
        )
        self.errors = Counter(
            "inference_errors_total",
            "Requests that got no result, by reason (overloaded, failed)",
            ["model", "version", "reason"],
            namespace=ns,
            registry=registry,
        )
