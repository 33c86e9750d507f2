"""A seeded interaction generator with latent tastes (the figures on it are synthetic).

Products belong to categories; each category has a direction in a small taste space and each
product sits near its category. Customers have a taste vector and an activity level; at each
event a customer picks a product with probability rising with taste match and popularity,
then may add it to the cart and buy it. Tastes drift slowly over time, so the next period
is like, but not the same as, the past.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shop.ml.recs.data import KIND_WEIGHTS, Catalogue, Interactions

DAY = 86_400.0


@dataclass(frozen=True)
class SynthConfig:
    """Sizes and shape of the generated shop."""

    customers: int = 1500
    products: int = 400
    categories: int = 12
    dim: int = 8
    days: int = 120
    events_per_customer: float = 40.0
    taste_sharpness: float = 2.5
    popularity_skew: float = 1.1
    seed: int = 0


def generate(cfg: SynthConfig = SynthConfig()) -> tuple[Interactions, Catalogue]:
    """Interactions and catalogue of a synthetic shop, reproducible from ``cfg.seed``."""
    rng = np.random.default_rng(cfg.seed)
    cat_dirs = rng.normal(size=(cfg.categories, cfg.dim))
    category = rng.integers(0, cfg.categories, size=cfg.products)
    items = cat_dirs[category] + 0.6 * rng.normal(size=(cfg.products, cfg.dim))
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    # Zipf-like popularity on top of taste.
    pop = np.log(1.0 / np.arange(1, cfg.products + 1) ** cfg.popularity_skew)
    pop = pop[rng.permutation(cfg.products)]
    # Each customer likes one or two categories.
    fav = rng.integers(0, cfg.categories, size=(cfg.customers, 2))
    tastes = (
        cat_dirs[fav[:, 0]]
        + 0.5 * cat_dirs[fav[:, 1]]
        + 0.5 * rng.normal(size=(cfg.customers, cfg.dim))
    )
    tastes /= np.linalg.norm(tastes, axis=1, keepdims=True)
    drift = 0.3 * rng.normal(size=(cfg.customers, cfg.dim)) / cfg.days
    activity = rng.gamma(2.0, cfg.events_per_customer / 2.0, size=cfg.customers)
    rows: list[tuple[int, int, str, float]] = []
    for c in range(cfg.customers):
        times = np.sort(rng.uniform(0, cfg.days * DAY, size=max(1, int(activity[c]))))
        taste = tastes[c] + np.outer(times / DAY, drift[c])
        logits = cfg.taste_sharpness * 2.0 * (taste @ items.T) + pop
        # Gumbel-max: one categorical draw per event without normalising each row.
        picked = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
        match = np.einsum("ij,ij->i", items[picked], taste)
        carted = rng.random(len(times)) < 0.25 + 0.35 * np.maximum(match, 0.0)
        bought = carted & (rng.random(len(times)) < 0.5)
        for t, item, cart, buy in zip(times, picked, carted, bought, strict=True):
            rows.append((c, int(item), "view", float(t)))
            if cart:
                rows.append((c, int(item), "cart", float(t) + 60.0))
            if buy:
                rows.append((c, int(item), "purchase", float(t) + 300.0))
    cust, prod, kind, time = zip(*rows, strict=True)
    kinds = np.asarray(kind)
    weights = np.vectorize(KIND_WEIGHTS.__getitem__)(kinds).astype(np.float32)
    inter = Interactions(
        np.asarray(cust, np.int64), np.asarray(prod, np.int64), weights,
        np.asarray(time, np.float64), kinds == "purchase", cfg.customers, cfg.products,
    )  # fmt: skip
    return inter, Catalogue(category.astype(np.int64))
