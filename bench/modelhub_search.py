"""Modelhub search on 10,000 generated models: the search (GIN full text, filters, facets)
against a plain ``ILIKE`` scan of the same columns, in the same run, on PostgreSQL.

    .venv/bin/python bench/modelhub_search.py [--models 10000] [--queries 200]

The catalogue is generated from a fixed seed (synthetic names and descriptions); both sides
answer the same queries and must find the same models.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid

from _servers import percentiles, scratch_postgres
from modelhub.product import PRODUCT
from modelhub.registry.models import MarketModel
from modelhub.search.schemas import SearchFilters, SearchSort
from modelhub.search.service import search
from sqlalchemy import Text, cast, func, insert, or_, select

from forgekit.db import Database
from forgekit.db.base import utcnow
from forgekit.identity.models import User

WORDS = [
    "sentiment", "vision", "speech", "audio", "detector", "classifier", "segmenter",
    "translator", "summariser", "embedding", "ranking", "fraud", "forecast", "fish", "salmon",
    "trout", "retail", "churn", "spam", "toxicity", "image", "text", "tabular", "graph",
    "anomaly", "recommender", "ocr", "pose", "depth", "tiny", "small", "base", "large"
]
TASKS = ["text-classification", "image-classification", "speech-recognition", "regression",
         "object-detection", "translation", "embedding"]
FRAMEWORKS = ["onnx", "pytorch", "sklearn", "tensorflow"]
LICENSES = ["mit", "apache-2.0", "bsd-3-clause", "cc-by-4.0"]


def _models(n: int, owner: uuid.UUID, rng: random.Random) -> list[dict]:
    rows = []
    for i in range(n):
        words = rng.sample(WORDS, 4)
        rows.append({
            "id": uuid.uuid4(), "owner_id": owner, "namespace": "bench",
            "name": f"{words[0]}-{words[1]}-{i}", "title": " ".join(words[:3]).title(),
            "description": " ".join(rng.choices(WORDS, k=30)), "task": rng.choice(TASKS),
            "framework": rng.choice(FRAMEWORKS), "license": rng.choice(LICENSES),
            "tags": sorted(set(rng.sample(WORDS, 3))), "pricing": {},
            "metadata": {}, "visibility": "public", "status": "published",
            "downloads": rng.randint(0, 10_000), "created_at": utcnow(), "updated_at": utcnow(),
        })  # fmt: skip
    return rows


async def run(url: str, n_models: int, n_queries: int) -> None:
    rng = random.Random(20261202)
    if True:  # one scratch database for the run (created by main)
        await asyncio.to_thread(PRODUCT.upgrade, url)
        db = Database(url, pool_size=5, max_overflow=0)
        owner = uuid.uuid4()
        async with db.transaction() as s:
            s.add(User(id=owner, email="bench@example.com", username="bench", password_hash="x"))
        rows = _models(n_models, owner, rng)
        async with db.transaction() as s:
            for start in range(0, len(rows), 1000):
                batch = [{**r, "metadata_": r.pop("metadata")} for r in rows[start:start + 1000]]
                await s.execute(insert(MarketModel), batch)
        async with db.session() as s:
            await s.execute(select(func.count()).select_from(MarketModel))
        queries = [" ".join(rng.sample(WORDS, rng.choice((1, 2)))) for _ in range(n_queries)]
        ours, scan, agree = [], [], 0
        for q in queries:
            async with db.session() as s:
                t0 = time.perf_counter()
                page = await search.search(s, q, SearchFilters(), sort=SearchSort.RELEVANCE,
                                           limit=20, cursor=None)  # fmt: skip
                ours.append((time.perf_counter() - t0) * 1000)
            async with db.session() as s:
                t0 = time.perf_counter()
                cond = [or_(MarketModel.name.ilike(f"%{w}%"), MarketModel.title.ilike(f"%{w}%"),
                            MarketModel.description.ilike(f"%{w}%"),
                            cast(MarketModel.tags, Text).ilike(f"%{w}%"))
                        for w in q.split()]  # fmt: skip
                count = await s.scalar(select(func.count()).select_from(MarketModel).where(*cond))
                await s.execute(select(MarketModel).where(*cond)
                                .order_by(MarketModel.created_at.desc()).limit(20))  # fmt: skip
                scan.append((time.perf_counter() - t0) * 1000)
            # Word prefixes vs substrings: every search hit is an ILIKE hit, not the reverse
            # ("ocr" is inside "forecast"); count the queries where that holds.
            agree += int(page.total <= (count or 0))
        await db.dispose()
    print(f"models {n_models}, queries {n_queries} (1-2 words), PostgreSQL, limit 20")
    print(f"{'':24}{'p50 ms':>10}{'p95 ms':>10}")
    for label, samples in (("search (GIN + facets)", ours), ("ILIKE scan (count+page)", scan)):
        p50, p95, _ = percentiles(samples)
        print(f"{label:24}{p50:10.2f}{p95:10.2f}")
    print(f"ratio search/scan p50: {statistics.median(ours) / statistics.median(scan):.2f}; "
          f"search hits within the scan's in {agree}/{n_queries} queries")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with scratch_postgres("modelhub_search") as url:
        asyncio.run(run(url, args.models, args.queries))


if __name__ == "__main__":
    main()
