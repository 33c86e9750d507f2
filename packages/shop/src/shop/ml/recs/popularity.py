"""The baseline and the fallback: the most bought, carted and viewed products, overall or
per category."""

from __future__ import annotations

import numpy as np

from shop.ml.recs.data import Catalogue, Interactions


def popularity(inter: Interactions) -> np.ndarray:
    """Summed event weight of every product."""
    return np.bincount(inter.product, weights=inter.weight, minlength=inter.n_products)


def popular_in_category(pop: np.ndarray, catalogue: Catalogue, category: int, k: int) -> list[int]:
    """The ``k`` most popular products of a category, then the most popular overall."""
    order = np.argsort(-pop, kind="stable")
    inside = [int(i) for i in order if catalogue.category[i] == category]
    rest = [int(i) for i in order if catalogue.category[i] != category]
    return (inside + rest)[:k]
