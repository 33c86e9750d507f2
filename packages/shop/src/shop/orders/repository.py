"""Order queries and the conditional status update the state machine relies on."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from shop.orders.models import Order, OrderHistory, OrderLine


async def move(
    session: AsyncSession, order_id: uuid.UUID, source: str, target: str, **values: Any
) -> bool:
    """Set the status to ``target`` only if it still is ``source`` (one statement)."""
    result = await session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == source)
        .values(status=target, updated_at=utcnow(), **values),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def fresh(session: AsyncSession, order_id: uuid.UUID) -> Order | None:
    """The order as the database has it now."""
    return await session.scalar(
        select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    )


async def lines(session: AsyncSession, order_id: uuid.UUID) -> Sequence[OrderLine]:
    """An order's lines by SKU."""
    rows = await session.execute(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.sku)
    )
    return rows.scalars().all()


async def history(session: AsyncSession, order_id: uuid.UUID) -> Sequence[OrderHistory]:
    """An order's transitions, oldest first."""
    rows = await session.execute(
        select(OrderHistory)
        .where(OrderHistory.order_id == order_id)
        .order_by(OrderHistory.at, OrderHistory.id)
    )
    return rows.scalars().all()


async def of_customer(session: AsyncSession, customer_id: uuid.UUID, limit: int) -> Sequence[Order]:
    """A customer's orders, newest first."""
    rows = await session.execute(
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(Order.created_at.desc(), Order.id)
        .limit(limit)
    )
    return rows.scalars().all()
