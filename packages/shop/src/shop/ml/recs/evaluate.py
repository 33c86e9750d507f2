"""Time-based evaluation: train on the past, score top-k lists against the next period.

Relevant items of a customer are the products they interacted with in the test period and
had not bought before the cut-off; both recommenders skip what the customer already bought.
Takes any :class:`Interactions`, so the shop's own events and the generator go through the
same code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shop.ml.metrics import Figures, coverage, precision_recall_at_k
from shop.ml.recs.als import AlsModel, AlsParams, train_als
from shop.ml.recs.data import Catalogue, Interactions
from shop.ml.recs.popularity import popularity


@dataclass(frozen=True)
class RecsReport(Figures):
    """Held-out figures of ALS and of the popularity baseline, at the same k."""

    k: int
    cutoff: float
    test_customers: int
    precision: float
    recall: float
    coverage: float
    baseline_precision: float
    baseline_recall: float
    baseline_coverage: float


def bought_mask(inter: Interactions) -> np.ndarray:
    """Customers x products, True where the customer bought the product."""
    mask = np.zeros((inter.n_customers, inter.n_products), dtype=bool)
    mask[inter.customer[inter.purchase], inter.product[inter.purchase]] = True
    return mask


def top_k(scores: np.ndarray, exclude: np.ndarray, k: int) -> np.ndarray:
    """Row-wise indices of the ``k`` best scores, excluded cells never chosen."""
    masked = np.where(exclude, -np.inf, scores)
    part = np.argpartition(-masked, kth=min(k, masked.shape[1] - 1), axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(masked, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def relevant_items(test: Interactions, bought: np.ndarray) -> dict[int, set[int]]:
    """Per customer, the test-period products not already bought in training."""
    out: dict[int, set[int]] = {}
    for c, p in zip(test.customer.tolist(), test.product.tolist(), strict=True):
        if not bought[c, p]:
            out.setdefault(c, set()).add(p)
    return out


def evaluate(
    inter: Interactions,
    catalogue: Catalogue,
    *,
    test_share: float = 0.2,
    k: int = 10,
    params: AlsParams = AlsParams(),
) -> tuple[AlsModel, RecsReport]:
    """Fit on the events before the cut-off, measure on those after; returns the fitted model."""
    cutoff = inter.cutoff_for(test_share)
    train, test = inter.split_at(cutoff)
    model = train_als(train, catalogue, params)
    bought = bought_mask(train)
    relevant = relevant_items(test, bought)
    # Customers never seen in training get the fallback in production; here they are not
    # scored by either method, so both are measured on the same people.
    seen = np.bincount(train.customer, minlength=inter.n_customers) > 0
    users = np.array(sorted(u for u in relevant if seen[u]), dtype=np.int64)
    relevant = {int(u): relevant[int(u)] for u in users}
    als_top = top_k(model.scores(users), bought[users], k)
    pop = popularity(train)
    pop_top = top_k(np.broadcast_to(pop, (len(users), len(pop))), bought[users], k)
    als_lists = {int(u): row.tolist() for u, row in zip(users, als_top, strict=True)}
    pop_lists = {int(u): row.tolist() for u, row in zip(users, pop_top, strict=True)}
    p, r = precision_recall_at_k(als_lists, relevant, k)
    bp, br = precision_recall_at_k(pop_lists, relevant, k)
    report = RecsReport(
        k=k, cutoff=cutoff, test_customers=len(users), precision=p, recall=r,
        coverage=coverage(als_lists, inter.n_products, k), baseline_precision=bp,
        baseline_recall=br, baseline_coverage=coverage(pop_lists, inter.n_products, k),
    )  # fmt: skip
    return model, report
