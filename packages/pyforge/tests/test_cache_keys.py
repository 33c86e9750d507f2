"""PyForge's cache lifetimes and key layout (seed 001), on the kit's cache backends."""

import uuid
from collections.abc import AsyncIterator

import pytest

from forgekit.cache import Cache
from forgekit.testing.redis import REDIS_BACKENDS, open_cache
from pyforge import cache_keys as cache_ttl


@pytest.fixture(params=REDIS_BACKENDS)
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    async with open_cache(request.param, f"pyforge-test:{uuid.uuid4().hex}") as cache:
        yield cache


def test_seed_ttls() -> None:
    assert cache_ttl.CACHE_TTLS == {
        "session": 3600,
        "project": 300,
        "analysis": 1800,
        "metrics": 600,
        "ml_prediction": 900,
    }


def test_key_builders_follow_the_seed_layout() -> None:
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert cache_ttl.session_key(7) == "user:session:7"
    assert cache_ttl.project_key(ident) == f"project:{ident}"
    assert cache_ttl.analysis_key("f1") == "analysis:f1"
    assert cache_ttl.metrics_key(3) == "metrics:3"
    assert cache_ttl.ml_prediction_key("f1", "bug-risk") == "ml:prediction:f1:bug-risk"
    assert cache_ttl.ml_prediction_key("f1", "x").startswith(cache_ttl.ml_prediction_prefix("f1"))


@pytest.mark.parametrize("bad", ["", "a:b"])
def test_key_builders_refuse_ambiguous_parts(bad: str) -> None:
    with pytest.raises(ValueError, match="key part"):
        cache_ttl.project_key(bad)


async def test_invalidating_predictions_of_one_file(cache: Cache) -> None:
    await cache.set(cache_ttl.ml_prediction_key("f1", "a"), 1, ttl=cache_ttl.ML_PREDICTION_TTL)
    await cache.set(cache_ttl.ml_prediction_key("f1", "b"), 2, ttl=cache_ttl.ML_PREDICTION_TTL)
    await cache.set(cache_ttl.ml_prediction_key("f10", "a"), 3, ttl=cache_ttl.ML_PREDICTION_TTL)
    assert await cache.delete_prefix(cache_ttl.ml_prediction_prefix("f1")) == 2
    assert await cache.get(cache_ttl.ml_prediction_key("f10", "a")) == 3


