"""Fraud scoring reads the online feature store, and gets what training computes offline."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
import shop.ml.serving as serving_module
from shop.ml.fraud import service as fraud
from shop.ml.fraud.features import FEATURE_NAMES, CustomerHistory, featurize

from forgekit.runtime import Runtime

from .conftest import install, small


async def test_online_features_equal_point_in_time_training_features(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serving_module, "DRIFT_EVERY", 10)
    await install(runtime, "fraud")
    _, data = small("fraud")
    # Six customers' orders, one of them a card-testing burst (velocity features).
    honest = {f"c{i}" for i in range(5)}
    burst = next(o.customer for o in data.orders if o.customer.startswith("ct"))
    orders = [o for o in data.orders if o.customer in honest | {burst}]
    offline = featurize(orders)  # training's path: point-in-time over the whole stream
    assert len(orders) >= 20 and offline[:, FEATURE_NAMES.index("orders_last_hour")].max() >= 2
    ml = getattr(runtime, "ml", None)
    assert ml is not None
    online = []
    for i, order in enumerate(orders):
        if i == len(orders) // 2:
            # Lose one customer's online state: the fallback rebuilds it from the database.
            assert await ml.features.cache.delete(f"feature:fraud_order:{order.customer}") == 1
        async with runtime.db.session() as session:
            case = await fraud.score(session, ml, order)
        online.append([case.features[n] for n in FEATURE_NAMES])
    np.testing.assert_array_equal(np.asarray(online, dtype=np.float32), offline)
    # The stored state is training's state after the last order.
    history = CustomerHistory()
    featurize(orders, history)
    assert await ml.features.get(burst) == history.state(burst)
    # Scoring again returns the first verdict and does not fold the order in twice.
    async with runtime.db.session() as session:
        again = await fraud.score(session, ml, orders[-1])
    assert again.features == case.features
    assert await ml.features.get(burst) == history.state(burst)
    # Serving metrics on the app's /metrics: latency, decisions, and PSI per feature.
    text = (await client.get("/metrics")).text
    assert f"shop_fraud_scoring_seconds_count {float(len(orders))}" in text
    assert 'shop_fraud_decisions_total{decision="approve"}' in text
    assert 'shop_feature_psi{feature="amount_vs_history"}' in text
