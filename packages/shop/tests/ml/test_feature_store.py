"""The feature store: point-in-time correctness, online serving, drift."""

from __future__ import annotations

import numpy as np
import pytest
from prometheus_client import CollectorRegistry
from shop.ml.features.drift import DriftMonitor, psi
from shop.ml.features.store import BY_NAME, DAY, FEATURES, Event, EventLog, OnlineStore, offline

from forgekit.cache import MemoryCache


def _log() -> EventLog:
    return EventLog([
        Event("c1", "order", 1 * DAY, 1000), Event("c1", "order", 5 * DAY, 3000),
        Event("c1", "order", 40 * DAY, 500), Event("p1", "view", 38 * DAY),
        Event("p1", "view", 39 * DAY), Event("p1", "purchase", 39.5 * DAY),
    ])  # fmt: skip


def test_no_feature_uses_data_after_the_label_time() -> None:
    log = _log()
    customer = [f for f in FEATURES if f.entity == "customer"]
    (row,) = offline(customer, log, [("c1", 5 * DAY)])
    # The order at exactly 5 days is the label's own: excluded, as is the one at 40 days.
    assert row == {"customer_orders_30d": 1.0, "customer_spend_30d": 1000.0,
                   "customer_days_since_order": 4.0}  # fmt: skip
    # Adding future events changes nothing for that as-of time.
    more = EventLog([*log.before("c1", 1e12), Event("c1", "order", 6 * DAY, 99_999)])
    assert offline(customer, more, [("c1", 5 * DAY)]) == [row]


def test_product_conversion() -> None:
    (row,) = offline([BY_NAME["product_conversion_30d"]], _log(), [("p1", 40 * DAY)])
    assert row["product_conversion_30d"] == pytest.approx(0.5)


async def test_online_store_serves_and_expires() -> None:
    cache = MemoryCache("shop-test-features")
    store = OnlineStore(cache)
    feats = [BY_NAME["customer_orders_30d"]]
    assert await store.materialize(feats, _log(), ["c1"], now=41 * DAY) == 1
    assert await store.get(feats, "c1") == {"customer_orders_30d": 1.0}
    assert await store.get(feats, "nobody") == {"customer_orders_30d": None}


def test_psi_is_small_for_same_and_large_for_shifted() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(size=5000)
    assert psi(ref, rng.normal(size=5000)) < 0.05
    assert psi(ref, rng.normal(1.0, size=5000)) > 0.25


def test_drift_monitor_sets_gauge_and_alerts() -> None:
    registry = CollectorRegistry()
    rng = np.random.default_rng(1)
    monitor = DriftMonitor({"a": rng.normal(size=2000), "b": rng.normal(size=2000)}, registry)
    figures = monitor.observe({"a": rng.normal(size=2000), "b": rng.normal(2.0, size=2000)})
    assert monitor.alerts(figures) == ["b"]
    assert registry.get_sample_value("shop_feature_psi", {"feature": "b"}) == figures["b"]


def test_nightly_schedule_waits_for_the_next_occurrence() -> None:
    import datetime as dt

    from shop.ml.tasks import seconds_until

    now = dt.datetime(2026, 12, 3, 2, 30, tzinfo=dt.UTC)
    assert seconds_until("03:00", now) == 1800
    assert seconds_until("02:30", now) == 24 * 3600  # now has passed: tomorrow
