"""Where each trainer's data comes from: a table of the stated shape, or the generator.

The shop's own tables feed the trainers through :mod:`shop.ml.training.source` once they hold
enough rows; until then, and in benchmarks, the seeded generators here stand in, and every
card and run says ``synthetic: true``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shop.ml.forecast.data import Series
from shop.ml.fraud.data import OrderRow
from shop.ml.recs.data import Catalogue, Interactions


@dataclass
class RecsData:
    """Interactions, catalogue and the external ids of the dense indices."""

    interactions: Interactions
    catalogue: Catalogue
    customer_ids: list[str]
    product_ids: list[str]
    synthetic: bool
    #: Where the rows came from, in words (the run and the model card say it).
    source: str = ""


@dataclass
class FraudData:
    """Labelled orders in time order."""

    orders: list[OrderRow]
    synthetic: bool
    #: Where the rows came from, in words (the run and the model card say it).
    source: str = ""


@dataclass
class SentimentData:
    """Review texts with star-derived labels."""

    texts: list[str]
    labels: list[str]
    synthetic: bool
    #: Where the rows came from, in words (the run and the model card say it).
    source: str = ""


@dataclass
class ForecastData:
    """Daily demand series."""

    series: list[Series]
    synthetic: bool
    #: Where the rows came from, in words (the run and the model card say it).
    source: str = ""


def synthetic(kind: str, seed: int = 0, **sizes: Any) -> Any:
    """The generator's data for ``kind``, with ids as strings."""
    if kind == "recs":
        from shop.ml.recs.synth import SynthConfig, generate

        inter, cat = generate(SynthConfig(seed=seed, **sizes))
        return RecsData(inter, cat, [f"c{i}" for i in range(inter.n_customers)],
                        [f"p{i}" for i in range(inter.n_products)], True)  # fmt: skip
    if kind == "fraud":
        from shop.ml.fraud.synth import FraudSynthConfig
        from shop.ml.fraud.synth import generate as fraud_orders

        return FraudData(fraud_orders(FraudSynthConfig(seed=seed, **sizes)), True)
    if kind == "sentiment":
        from shop.ml.sentiment.data import texts_and_labels
        from shop.ml.sentiment.synth import ReviewSynthConfig
        from shop.ml.sentiment.synth import generate as reviews

        texts, labels = texts_and_labels(reviews(ReviewSynthConfig(seed=seed, **sizes)))
        return SentimentData(texts, labels, True)
    if kind == "forecast":
        from shop.ml.forecast.synth import generate as demand

        sizes = {"products": 4, "warehouses": 2, "days": 365, **sizes}
        return ForecastData(demand(seed=seed, **sizes), True)
    raise ValueError(f"unknown model kind {kind!r}")
