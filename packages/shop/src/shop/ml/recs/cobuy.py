""" "Bought together": products that the same customers buy, ranked by lift over chance."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from shop.ml.recs.data import Interactions


def cobuy_matrix(inter: Interactions) -> np.ndarray:
    """Products x products lift of being bought by the same customer (diagonal zero).

    Lift = P(a and b) / (P(a) P(b)); pairs seen fewer than twice score zero, so one shared
    customer is not a pattern.
    """
    bought = inter.select(inter.purchase)
    m = sparse.csr_matrix(
        (np.ones(len(bought)), (bought.customer, bought.product)),
        shape=(inter.n_customers, inter.n_products),
    )
    m.data[:] = 1.0  # a customer counts once per product
    both = np.asarray((m.T @ m).todense(), dtype=np.float64)
    counts = np.diag(both).copy()
    np.fill_diagonal(both, 0.0)
    n = max(1, int((np.asarray(m.sum(axis=1)).ravel() > 0).sum()))
    expected = np.outer(counts, counts) / n
    lift = np.where((both >= 2) & (expected > 0), both / np.maximum(expected, 1e-12), 0.0)
    return lift


def bought_together(lift: np.ndarray, product: int, k: int) -> list[int]:
    """Up to ``k`` products with positive lift for ``product``, best first."""
    row = lift[product]
    order = np.argsort(-row, kind="stable")[:k]
    return [int(i) for i in order if row[i] > 0]
