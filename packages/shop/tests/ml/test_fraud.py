"""Fraud scoring: point-in-time features, explained rules, combined score beats rules alone."""

from __future__ import annotations

import numpy as np
import pytest
from shop.ml.fraud.data import OrderRow
from shop.ml.fraud.evaluate import evaluate
from shop.ml.fraud.features import FEATURE_NAMES, CustomerHistory, featurize
from shop.ml.fraud.model import Decision, FraudParams, score_one
from shop.ml.fraud.rules import DEFAULT_RULES, Rule, RulesEngine
from shop.ml.fraud.synth import FraudSynthConfig, generate

IDX = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _order(n: int, t: float, amount: int = 2000, device: str = "d1", **kw: str) -> OrderRow:
    base = dict(order_id=f"o{n}", customer="c1", amount_minor=amount, currency="EUR", time=t,
                device=device, address="a1", bill_country="DE", ship_country="DE",
                ip_country="DE", account_created=0.0)  # fmt: skip
    base.update(kw)
    return OrderRow(**base)  # type: ignore[arg-type]


def test_features_only_see_earlier_orders() -> None:
    orders = [_order(1, 86_400.0 * 10), _order(2, 86_400.0 * 10 + 60, amount=20_000, device="x")]
    feats = featurize(orders)
    assert feats[0, IDX["first_order"]] == 1.0
    assert feats[1, IDX["amount_vs_history"]] == pytest.approx(10.0)
    assert feats[1, IDX["new_device"]] == 1.0
    assert feats[1, IDX["orders_last_hour"]] == 1.0
    # A later order must not change an earlier order's features.
    later = featurize([*orders, _order(3, 86_400.0 * 10 + 120)])
    assert np.array_equal(later[:2], feats)


def test_rules_explain_each_hit() -> None:
    history = CustomerHistory()
    history.add(_order(1, 1_000_000.0))
    feats = history.features(_order(2, 1_000_100.0, amount=10_000, device="new", ship_country="NG"))
    hits = {h.rule: h.explanation for h in RulesEngine().hits(feats)}
    assert "amount_spike" in hits and "5.0x" in hits["amount_spike"]
    assert "country_mismatch" in hits and "new_device_and_address" in hits


def test_rules_are_validated() -> None:
    with pytest.raises(ValueError, match="unknown feature"):
        Rule.from_mapping(
            {"name": "x", "feature": "colour", "op": ">", "threshold": 1, "weight": 0.1}
        )
    with pytest.raises(ValueError, match="unknown operator"):
        Rule.from_mapping(
            {"name": "x", "feature": "night", "op": "~", "threshold": 1, "weight": 0.1}
        )
    disabled = [Rule.from_mapping({**r.as_dict(), "enabled": False}) for r in DEFAULT_RULES]
    assert RulesEngine(disabled).score(np.ones(len(FEATURE_NAMES), np.float32)) == 0.0


def test_combined_beats_rules_alone_on_later_orders() -> None:
    orders = generate(FraudSynthConfig(customers=300, seed=3))
    assert any(o.fraud for o in orders) and not all(o.fraud for o in orders)
    model, report = evaluate(orders, params=FraudParams(trees=50))
    assert report.test_fraud > 5
    assert report.auc > report.rules_auc
    assert report.auc > 0.8
    assert 0 < model.review_threshold <= model.decline_threshold
    verdict = score_one(model, featurize(orders[:1])[0], 1.0)
    assert verdict.decision in set(Decision)
