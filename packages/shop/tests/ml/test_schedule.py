"""The nightly schedule trains each kind once per period however many ML workers fire it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from shop.ml.events import TRAIN_REQUESTED
from shop.ml.models import MlScheduleClaim
from shop.ml.settings import MlSettings
from shop.ml.tasks import NightlySchedule
from sqlalchemy import func, select

from forgekit.db.engine import Database
from forgekit.events.models import OutboxMessage

KINDS = ["recs", "fraud", "sentiment", "forecast"]


async def test_two_workers_firing_at_once_claim_each_kind_once(database_url: str) -> None:
    # Two workers: each its own connection pool, both firing the same night at the same time.
    dbs = [Database(database_url, pool_size=2, max_overflow=0) for _ in range(2)]
    settings = MlSettings(_env_file=None, nightly_at="02:00", nightly_kinds=KINDS)
    workers: list[Any] = [NightlySchedule(SimpleNamespace(db=db), settings) for db in dbs]
    try:
        first = await asyncio.gather(*(w.fire("2026-12-03") for w in workers))
        again = await asyncio.gather(*(w.fire("2026-12-03") for w in workers))
        nextnight = await asyncio.gather(*(w.fire("2026-12-04") for w in workers))
        async with dbs[0].session() as session:
            claims = (await session.execute(
                select(MlScheduleClaim.period, func.count()).group_by(MlScheduleClaim.period)
            )).all()  # fmt: skip
            events = (await session.execute(
                select(OutboxMessage.payload).where(OutboxMessage.event_type == str(TRAIN_REQUESTED))
            )).scalars().all()  # fmt: skip
    finally:
        for db in dbs:
            await db.dispose()
    # Every kind claimed by exactly one of the two, once; a second firing claims nothing.
    assert sorted(k for kinds in first for k in kinds) == sorted(KINDS)
    assert again == [[], []]
    assert sorted(k for kinds in nextnight for k in kinds) == sorted(KINDS)
    assert sorted(claims) == [("2026-12-03", 4), ("2026-12-04", 4)]
    # One job event per (kind, night), written with its claim.
    reasons = sorted((e["payload"]["kind"], e["payload"]["reason"]) for e in events)
    assert reasons == sorted(
        (k, f"nightly {n}") for k in KINDS for n in ("2026-12-03", "2026-12-04")
    )
