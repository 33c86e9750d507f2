"""A generic, typed repository base.

Methods that select return *statements* where a service may want to refine them
(``select_all().where(...)``), and execute them through helpers, so queries stay composable.
Repositories never publish events or commit: that belongs to the service's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import Base, utcnow

ModelT = TypeVar("ModelT", bound=Base)


class Repository(Generic[ModelT]):
    """CRUD and query helpers for one model; subclasses set ``model``."""

    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _soft_deletes(self) -> bool:
        return hasattr(self.model, "deleted_at")

    def select_all(self, *, include_deleted: bool = False) -> Select[ModelT]:
        """A ``SELECT`` of this model, hiding soft-deleted rows unless asked."""
        stmt = select(self.model)
        if self._soft_deletes and not include_deleted:
            stmt = stmt.where(self.model.deleted_at.is_(None))  # type: ignore[attr-defined]
        return stmt

    async def get(self, id_: uuid.UUID, *, include_deleted: bool = False) -> ModelT | None:
        """The row with this primary key, or None."""
        stmt = self.select_all(include_deleted=include_deleted).where(
            self.model.id == id_  # type: ignore[attr-defined]
        )
        return await self.one_or_none(stmt)

    async def one_or_none(self, stmt: Select[ModelT]) -> ModelT | None:
        """Execute ``stmt`` and return its single row or None."""
        result = await self.session.execute(stmt)
        return result.scalars().unique().one_or_none()

    async def all(self, stmt: Select[ModelT]) -> Sequence[ModelT]:
        """Execute ``stmt`` and return every row."""
        result = await self.session.execute(stmt)
        return result.scalars().unique().all()

    async def count(self, stmt: Select[Any]) -> int:
        """Count the rows ``stmt`` would return."""
        total = await self.session.scalar(
            select(func.count()).select_from(stmt.order_by(None).subquery())
        )
        return int(total or 0)

    async def add(self, obj: ModelT, *, flush: bool = True) -> ModelT:
        """Stage a new row (flushed, so defaults and constraints apply now)."""
        self.session.add(obj)
        if flush:
            await self.session.flush()
        return obj

    async def update(self, obj: ModelT, values: dict[str, Any], *, flush: bool = True) -> ModelT:
        """Set attributes on a loaded row."""
        for key, value in values.items():
            setattr(obj, key, value)
        if flush:
            await self.session.flush()
        return obj

    async def delete(self, obj: ModelT, *, soft: bool = True) -> None:
        """Soft-delete where the model supports it, else delete the row."""
        if soft and self._soft_deletes:
            obj.deleted_at = utcnow()  # type: ignore[attr-defined]
            await self.session.flush()
        else:
            await self.session.delete(obj)
            await self.session.flush()
