"""Feature drift: population stability index of live values against the training ones.

PSI = Σ (a - e) · ln(a / e) over bins cut at the training quantiles; the usual reading is
< 0.1 stable, 0.1-0.25 moderate, > 0.25 a shift worth a look. Each feature's PSI is the
Prometheus gauge ``shop_feature_psi{feature=...}`` on the app's ``/metrics``; the alert rule
``ShopFeatureDrift`` (``deploy/prometheus/shop-ml-rules.yml``) fires above :data:`PSI_ALERT`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from prometheus_client import CollectorRegistry, Gauge

PSI_ALERT = 0.25
#: A small floor keeps an empty bin from making the index infinite.
_FLOOR = 1e-4


def _edges(expected: np.ndarray, bins: int) -> np.ndarray:
    return np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)[1:-1]))


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return np.asarray(np.maximum(counts / counts.sum(), _FLOOR))


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` (quantile bins)."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    if len(expected) == 0 or len(actual) == 0:
        raise ValueError("PSI needs values on both sides")
    edges = _edges(expected, bins)
    e_share, a_share = _shares(expected, edges), _shares(actual, edges)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


def psi_gauge(registry: CollectorRegistry) -> Gauge:
    """The ``shop_feature_psi`` gauge in ``registry`` (create it once per registry)."""
    return Gauge(
        "shop_feature_psi",
        "Population stability index of a feature against its training values",
        ["feature"],
        registry=registry,
    )


class DriftMonitor:
    """Holds the training distribution per feature (bins cut once) and publishes live PSI."""

    def __init__(
        self,
        reference: Mapping[str, np.ndarray],
        registry: CollectorRegistry | None = None,
        *,
        gauge: Gauge | None = None,
        bins: int = 10,
    ) -> None:
        if gauge is None:
            if registry is None:
                raise ValueError("DriftMonitor needs a registry or a gauge")
            gauge = psi_gauge(registry)
        self.gauge = gauge
        self._bins: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name, values in reference.items():
            values = np.asarray(values, dtype=np.float64)
            if len(values):
                edges = _edges(values, bins)
                self._bins[name] = (edges, _shares(values, edges))

    def observe(self, live: Mapping[str, np.ndarray]) -> dict[str, float]:
        """PSI of each feature's live values; sets the gauge and returns the figures."""
        out = {}
        for name, values in live.items():
            if name in self._bins and len(values):
                edges, e_share = self._bins[name]
                a_share = _shares(np.asarray(values, dtype=np.float64), edges)
                out[name] = float(np.sum((a_share - e_share) * np.log(a_share / e_share)))
                self.gauge.labels(feature=name).set(out[name])
        return out

    def alerts(self, figures: Mapping[str, float]) -> list[str]:
        """Features over the alert threshold."""
        return sorted(name for name, value in figures.items() if value > PSI_ALERT)
