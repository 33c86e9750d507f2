"""Implicit-feedback ALS (Hu, Koren and Volinsky 2008) in numpy, with category cold start.

Confidence is ``1 + alpha * w`` where ``w`` sums the event weights of a customer-product pair;
preference is 1 for every observed pair. Each half-step solves the regularised weighted least
squares for all rows in closed form, using the ``YᵀY + Yᵀ(C-I)Y`` trick so a row costs only
its own interactions. Products nobody touched in training get the mean factor of their
category (a content-based start for new items) instead of zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from shop.ml.recs.data import Catalogue, Interactions


@dataclass(frozen=True)
class AlsParams:
    """Hyper-parameters (small defaults: trains in seconds on one core)."""

    factors: int = 32
    regularization: float = 0.05
    alpha: float = 8.0
    iterations: int = 10
    seed: int = 0


@dataclass(frozen=True)
class AlsModel:
    """Customer and product factors; ``known`` marks products seen in training."""

    user_factors: np.ndarray  # (n_customers, f) float32
    item_factors: np.ndarray  # (n_products, f) float32
    known: np.ndarray  # (n_products,) bool

    def scores(self, customers: np.ndarray) -> np.ndarray:
        """Affinity of each customer to every product."""
        return np.asarray(self.user_factors[customers] @ self.item_factors.T)


def confidence_matrix(inter: Interactions) -> sparse.csr_matrix:
    """Customers x products matrix of summed event weights."""
    return sparse.csr_matrix(
        (inter.weight.astype(np.float64), (inter.customer, inter.product)),
        shape=(inter.n_customers, inter.n_products),
    )


def _half_step(weights: sparse.csr_matrix, fixed: np.ndarray, p: AlsParams) -> np.ndarray:
    """Solve every row's factors against the fixed side."""
    f = fixed.shape[1]
    gram = fixed.T @ fixed + p.regularization * np.eye(f)
    out = np.zeros((weights.shape[0], f))
    indptr, indices, data = weights.indptr, weights.indices, weights.data
    for row in range(weights.shape[0]):
        lo, hi = indptr[row], indptr[row + 1]
        if lo == hi:
            continue
        y = fixed[indices[lo:hi]]
        conf = p.alpha * data[lo:hi]  # C - I on the observed entries
        a = gram + (y.T * conf) @ y
        b = (y.T * (1.0 + conf)).sum(axis=1)
        out[row] = np.linalg.solve(a, b)
    return out


def train_als(inter: Interactions, catalogue: Catalogue, p: AlsParams = AlsParams()) -> AlsModel:
    """Fit ALS on the interactions and fill cold products from their category."""
    rng = np.random.default_rng(p.seed)
    weights = confidence_matrix(inter)
    weights_t = weights.T.tocsr()
    items = 0.01 * rng.normal(size=(inter.n_products, p.factors))
    users = np.zeros((inter.n_customers, p.factors))
    for _ in range(p.iterations):
        users = _half_step(weights, items, p)
        items = _half_step(weights_t, users, p)
    known = np.diff(weights_t.indptr) > 0
    items = cold_start(items, known, catalogue)
    return AlsModel(users.astype(np.float32), items.astype(np.float32), known)


def cold_start(items: np.ndarray, known: np.ndarray, catalogue: Catalogue) -> np.ndarray:
    """Give each unseen product the mean factor of the seen products of its category."""
    out = items.copy()
    for cat in range(catalogue.n_categories):
        members = catalogue.category == cat
        seen = members & known
        if seen.any():
            out[members & ~known] = items[seen].mean(axis=0)
    return out
