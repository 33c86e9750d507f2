"""Prometheus metrics of one app, in its own registry (so several apps can live in a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)


class AppMetrics:
    """HTTP, outbox and queue metrics named ``<namespace>_...`` (``pyforge_requests_total``)."""

    def __init__(self, namespace: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ns = namespace.replace("-", "_")
        self.requests = Counter(
            "requests_total",
            "HTTP requests served",
            ["method", "endpoint", "status"],
            namespace=ns,
            registry=self.registry,
        )
        self.latency = Histogram(
            "request_duration_seconds",
            "HTTP request latency",
            ["method", "endpoint"],
            namespace=ns,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "requests_in_progress",
            "HTTP requests being served",
            ["method"],
            namespace=ns,
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "outbox_pending_events",
            "Committed events not yet published",
            namespace=ns,
            registry=self.registry,
        )
        self.outbox_lag = Gauge(
            "outbox_lag_seconds",
            "Age of the oldest unpublished event",
            namespace=ns,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "queue_depth",
            "Messages waiting in a consumer queue",
            ["queue"],
            namespace=ns,
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The registry in Prometheus' text exposition format."""
        return generate_latest(self.registry)
