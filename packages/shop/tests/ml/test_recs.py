"""Recommendations on the seeded generator: ALS beats popularity on the next period."""

from __future__ import annotations

import numpy as np
import pytest
from shop.ml.recs.als import AlsParams, train_als
from shop.ml.recs.cobuy import bought_together, cobuy_matrix
from shop.ml.recs.data import Catalogue, Interactions
from shop.ml.recs.evaluate import evaluate, top_k
from shop.ml.recs.popularity import popular_in_category, popularity
from shop.ml.recs.synth import SynthConfig, generate

SMALL = SynthConfig(customers=400, products=120, categories=6, days=60, seed=1)


@pytest.fixture(scope="module")
def shop_data() -> tuple[Interactions, Catalogue]:
    return generate(SMALL)


def test_generator_is_seeded(shop_data: tuple[Interactions, Catalogue]) -> None:
    again, _ = generate(SMALL)
    assert np.array_equal(again.product, shop_data[0].product)
    assert shop_data[0].purchase.any() and (~shop_data[0].purchase).any()


def test_from_rows_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown interaction kind"):
        Interactions.from_rows([{"customer": 0, "product": 0, "kind": "like", "time": 0}],
                               n_customers=1, n_products=1)  # fmt: skip


def test_time_split_never_leaks(shop_data: tuple[Interactions, Catalogue]) -> None:
    inter, _ = shop_data
    cutoff = inter.cutoff_for(0.2)
    train, test = inter.split_at(cutoff)
    assert train.time.max() < cutoff <= test.time.min()
    assert len(train) + len(test) == len(inter)


def test_als_beats_popularity_on_the_next_period(shop_data: tuple[Interactions, Catalogue]) -> None:
    inter, cat = shop_data
    _, report = evaluate(inter, cat, params=AlsParams(factors=16, iterations=8))
    assert report.test_customers > 50
    assert report.precision > report.baseline_precision
    assert report.recall > report.baseline_recall
    assert report.coverage > report.baseline_coverage


def test_cold_items_get_their_category_factor(shop_data: tuple[Interactions, Catalogue]) -> None:
    inter, cat = shop_data
    unseen = 7
    model = train_als(
        inter.select(inter.product != unseen), cat, AlsParams(factors=8, iterations=3)
    )
    assert not model.known[unseen]
    peers = (cat.category == cat.category[unseen]) & model.known
    assert np.allclose(
        model.item_factors[unseen], model.item_factors[peers].mean(axis=0), atol=1e-5
    )


def test_top_k_never_returns_excluded() -> None:
    scores = np.array([[0.9, 0.8, 0.1, 0.5]])
    exclude = np.array([[True, False, False, False]])
    assert top_k(scores, exclude, 2).tolist() == [[1, 3]]


def test_popular_in_category_comes_first() -> None:
    cat = Catalogue(np.array([0, 1, 1, 0]))
    assert popular_in_category(np.array([10.0, 1.0, 5.0, 3.0]), cat, 1, 3) == [2, 1, 0]


def test_bought_together_needs_two_shared_customers() -> None:
    rows = [{"customer": c, "product": p, "kind": "purchase", "time": 0}
            for c in range(3) for p in (0, 1)] + [
           {"customer": 3, "product": 2, "kind": "purchase", "time": 0},
           {"customer": 3, "product": 0, "kind": "purchase", "time": 0},
           {"customer": 4, "product": 3, "kind": "purchase", "time": 0}]  # fmt: skip
    inter = Interactions.from_rows(rows, n_customers=5, n_products=4)
    lift = cobuy_matrix(inter)
    assert bought_together(lift, 0, 5) == [1]
    assert popularity(inter)[0] == pytest.approx(4 * 6.0)
