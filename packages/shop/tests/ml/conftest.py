"""Small trained models, trained once per session, registered into each test's backends."""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

from shop.ml.bundle import Candidate
from shop.ml.fraud.model import FraudParams
from shop.ml.recs.als import AlsParams
from shop.ml.training.data import synthetic
from shop.ml.training.service import register
from shop.ml.training.trainers import train

from forgekit.runtime import Runtime

SMALL: dict[str, tuple[dict[str, Any], Any]] = {
    "recs": ({"customers": 200, "products": 60, "categories": 5, "days": 40},
             AlsParams(factors=8, iterations=4)),
    "fraud": ({"customers": 150}, FraudParams(trees=10)),
    "sentiment": ({"reviews": 400}, None),
    "forecast": ({"products": 1, "warehouses": 1, "days": 150}, 2),
}  # fmt: skip


@cache
def small(kind: str, seed: int = 0) -> tuple[Candidate, Any]:
    """A small model of ``kind`` and its data (cached for the session)."""
    sizes, params = SMALL[kind]
    data = synthetic(kind, seed, **sizes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return train(kind, data, params), data


async def install(runtime: Runtime, *kinds: str) -> None:
    """Register the small models as active versions and load them."""
    for kind in kinds:
        candidate, data = small(kind)
        async with runtime.db.transaction() as session:
            await register(session, runtime.storage, candidate, data)
    ml = getattr(runtime, "ml", None)
    assert ml is not None
    await ml.refresh(force=True)
