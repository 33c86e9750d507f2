"""Queries of the usage record."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Subquery, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from modelhub.usage.models import ModelUsage, UsageEvent, UsageHourly, UsageSource

#: The window popularity counts users in ("calls in the last 30 days" of the seed).
POPULAR_WINDOW = timedelta(days=30)


def recent_users(since: datetime) -> Subquery:
    """``(model_id, users)``: distinct consumers per model who used it since ``since``
    (one usage row per consumer and model, so a count of rows is a count of users)."""
    return (
        select(ModelUsage.model_id, func.count(ModelUsage.id).label("users"))
        .where(ModelUsage.last_used_at >= since)
        .group_by(ModelUsage.model_id)
        .subquery("recent_users")
    )


def hour_of(at: datetime) -> datetime:
    """The start of the UTC hour ``at`` falls in."""
    return at.replace(minute=0, second=0, microsecond=0)


class UsageRepository:
    """Records and reads (consumer, model) usage facts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, table: type[object]) -> Any:
        # PostgreSQL's or SQLite's INSERT, both with ON CONFLICT (their types share no base
        # that declares it).
        dialect = self.session.get_bind().dialect.name
        return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)

    async def insert_event(self, event: UsageEvent) -> bool:
        """Insert the event unless its ``(consumer_id, request_id)`` is recorded already.

        ``ON CONFLICT DO NOTHING`` on the unique constraint: of concurrent retries in any
        number of processes exactly one inserts; True for that one.
        """
        values = {c.key: getattr(event, c.key) for c in UsageEvent.__table__.columns}
        stmt = self._insert(UsageEvent).values(**values)
        stmt = stmt.on_conflict_do_nothing(
            index_elements=[UsageEvent.consumer_id, UsageEvent.request_id]
        ).returning(UsageEvent.id)
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def event(self, consumer_id: uuid.UUID, request_id: str) -> UsageEvent | None:
        """The recorded event of a consumer's request id."""
        stmt = select(UsageEvent).where(
            UsageEvent.consumer_id == consumer_id, UsageEvent.request_id == request_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def add_to_hour(self, event: UsageEvent, now: datetime) -> None:
        """Add the event to its own hour's aggregate (one atomic upsert)."""
        stmt = self._insert(UsageHourly).values(
            id=uuid.uuid4(), consumer_id=event.consumer_id, model_id=event.model_id,
            hour=hour_of(event.occurred_at), calls=1, items=event.items,
            compute_ms=event.compute_ms, errors=0, revision=1, updated_at=now,
        )  # fmt: skip
        stmt = stmt.on_conflict_do_update(
            index_elements=[UsageHourly.consumer_id, UsageHourly.model_id, UsageHourly.hour],
            set_={
                "calls": UsageHourly.calls + 1,
                "items": UsageHourly.items + stmt.excluded["items"],
                "compute_ms": UsageHourly.compute_ms + stmt.excluded.compute_ms,
                "revision": UsageHourly.revision + 1,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        await self.session.execute(stmt)

    async def add_error(
        self, consumer_id: uuid.UUID, model_id: uuid.UUID, at: datetime
    ) -> None:
        """Count a failed call in its hour's aggregate."""
        stmt = self._insert(UsageHourly).values(
            id=uuid.uuid4(), consumer_id=consumer_id, model_id=model_id, hour=hour_of(at),
            calls=0, items=0, compute_ms=0, errors=1, revision=1, updated_at=at,
        )  # fmt: skip
        stmt = stmt.on_conflict_do_update(
            index_elements=[UsageHourly.consumer_id, UsageHourly.model_id, UsageHourly.hour],
            set_={"errors": UsageHourly.errors + 1, "revision": UsageHourly.revision + 1},
        )
        await self.session.execute(stmt)

    async def calls_since(
        self, consumer_id: uuid.UUID, model_id: uuid.UUID, since: datetime
    ) -> int:
        """The consumer's calls of the model since ``since`` (from the hourly aggregate)."""
        stmt = select(func.coalesce(func.sum(UsageHourly.calls), 0)).where(
            UsageHourly.consumer_id == consumer_id,
            UsageHourly.model_id == model_id,
            UsageHourly.hour >= hour_of(since),
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def hours(
        self,
        consumer_id: uuid.UUID | None,
        model_ids: list[uuid.UUID] | None,
        start: datetime,
        end: datetime,
    ) -> list[UsageHourly]:
        """Hourly aggregates in ``[start, end)``, of one consumer and/or some models."""
        stmt = select(UsageHourly).where(UsageHourly.hour >= start, UsageHourly.hour < end)
        if consumer_id is not None:
            stmt = stmt.where(UsageHourly.consumer_id == consumer_id)
        if model_ids is not None:
            stmt = stmt.where(UsageHourly.model_id.in_(model_ids))
        stmt = stmt.order_by(UsageHourly.hour)
        return list((await self.session.execute(stmt)).scalars())

    async def latencies(
        self, model_ids: list[uuid.UUID], start: datetime, end: datetime, limit: int
    ) -> list[tuple[uuid.UUID, datetime, int]]:
        """``(model_id, occurred_at, latency_ms)`` of the models' calls in ``[start, end)``."""
        stmt = (
            select(UsageEvent.model_id, UsageEvent.occurred_at, UsageEvent.latency_ms)
            .where(UsageEvent.model_id.in_(model_ids), UsageEvent.occurred_at >= start,
                   UsageEvent.occurred_at < end)
            .limit(limit)
        )  # fmt: skip
        return [(m, t, int(v)) for m, t, v in (await self.session.execute(stmt)).all()]

    async def record(
        self, consumer_id: uuid.UUID, model_id: uuid.UUID, source: UsageSource, at: datetime
    ) -> None:
        """Insert the fact, or refresh ``last_used_at`` when it exists.

        One statement (``INSERT … ON CONFLICT DO UPDATE`` on both databases), so concurrent
        uses by the same consumer never race into a unique-constraint error.
        """
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert(ModelUsage).values(
            id=uuid.uuid4(), consumer_id=consumer_id, model_id=model_id, source=source.value,
            last_source=source.value, uses=1, first_used_at=at, last_used_at=at,
        )  # fmt: skip
        stmt = stmt.on_conflict_do_update(
            index_elements=[ModelUsage.consumer_id, ModelUsage.model_id],
            set_={
                "last_used_at": stmt.excluded.last_used_at,
                "last_source": stmt.excluded.last_source,
                "uses": ModelUsage.uses + 1,
            },
        )
        await self.session.execute(stmt)

    async def get(self, consumer_id: uuid.UUID, model_id: uuid.UUID) -> ModelUsage | None:
        """The fact for ``consumer_id`` and ``model_id``, if the consumer used the model."""
        stmt = select(ModelUsage).where(
            ModelUsage.consumer_id == consumer_id, ModelUsage.model_id == model_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()
