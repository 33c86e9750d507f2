"""Queries of asynchronous jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from modelhub.jobs.models import InferenceJob


class JobRepository:
    """Reads jobs and moves them between states with conditional updates (a state change
    happens once, whoever races for it)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_request(self, consumer_id: uuid.UUID, request_id: str) -> InferenceJob | None:
        """The consumer's job of that request id."""
        stmt = select(InferenceJob).where(
            InferenceJob.consumer_id == consumer_id, InferenceJob.request_id == request_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def move(self, job_id: uuid.UUID, from_states: tuple[str, ...], **values: Any) -> bool:
        """Set ``values`` when the job is in one of ``from_states``; True when it was."""
        stmt = (
            update(InferenceJob)
            .where(InferenceJob.id == job_id, InferenceJob.status.in_(from_states))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return bool(getattr(result, "rowcount", 0) == 1)

    async def delete_expired(self, now: datetime) -> int:
        """Delete finished jobs past their retention; how many."""
        stmt = delete(InferenceJob).where(InferenceJob.expires_at < now)
        result = await self.session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)
