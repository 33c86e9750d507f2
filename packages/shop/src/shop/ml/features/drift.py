"""Feature drift: population stability index of live values against the training ones.

PSI = Σ (a - e) · ln(a / e) over bins cut at the training quantiles; the usual reading is
< 0.1 stable, 0.1-0.25 moderate, > 0.25 a shift worth a look. Each feature's PSI is a
Prometheus gauge ``shop_feature_psi{feature=...}``; the alert rule fires above 0.25.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from prometheus_client import CollectorRegistry, Gauge

PSI_ALERT = 0.25

ALERT_RULE = {
    "alert": "ShopFeatureDrift",
    "expr": f"max by (feature) (shop_feature_psi) > {PSI_ALERT}",
    "for": "1h",
    "labels": {"severity": "warning"},
    "annotations": {"summary": "Feature {{ $labels.feature }} drifted (PSI {{ $value }})"},
}


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` (quantile bins)."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    if len(expected) == 0 or len(actual) == 0:
        raise ValueError("PSI needs values on both sides")
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)[1:-1]))
    e = np.bincount(np.searchsorted(edges, expected, side="right"), minlength=len(edges) + 1)
    a = np.bincount(np.searchsorted(edges, actual, side="right"), minlength=len(edges) + 1)
    # A small floor keeps an empty bin from making the index infinite.
    e_share = np.maximum(e / e.sum(), 1e-4)
    a_share = np.maximum(a / a.sum(), 1e-4)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


class DriftMonitor:
    """Holds the training distribution per feature and publishes live PSI as a gauge."""

    def __init__(self, reference: Mapping[str, np.ndarray], registry: CollectorRegistry) -> None:
        self.reference = {k: np.asarray(v, dtype=np.float64) for k, v in reference.items()}
        self.gauge = Gauge(
            "shop_feature_psi",
            "Population stability index of a feature against its training values",
            ["feature"],
            registry=registry,
        )

    def observe(self, live: Mapping[str, np.ndarray]) -> dict[str, float]:
        """PSI of each feature's live values; sets the gauge and returns the figures."""
        out = {}
        for name, values in live.items():
            if name in self.reference and len(values):
                out[name] = psi(self.reference[name], values)
                self.gauge.labels(feature=name).set(out[name])
        return out

    def alerts(self, figures: Mapping[str, float]) -> list[str]:
        """Features over the alert threshold."""
        return sorted(name for name, value in figures.items() if value > PSI_ALERT)
