"""Stock queries and the conditional updates that move units between on hand, reserved and
sold. Each update states its precondition in its WHERE clause and reports whether it held."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shop.catalogue.models import Product, Variant
from shop.inventory.models import Reservation, ReservationStatus, Stock, Warehouse


def in_stock() -> ColumnElement[bool]:
    """The product has a live variant with units not yet promised in some warehouse."""
    return (
        select(Stock.variant_id)
        .join(Variant, Variant.id == Stock.variant_id)
        .where(
            Variant.product_id == Product.id,
            Variant.deleted_at.is_(None),
            Stock.on_hand - Stock.reserved > 0,
        )
        .exists()
    )


async def _changed(session: AsyncSession, stmt: Any) -> bool:
    result = await session.execute(stmt, execution_options={"synchronize_session": False})
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def levels(session: AsyncSession, variant_id: uuid.UUID) -> Sequence[tuple[Stock, Warehouse]]:
    """A variant's stock per warehouse, in allocation order (priority, then code)."""
    rows = await session.execute(
        select(Stock, Warehouse)
        .join(Warehouse, Warehouse.id == Stock.warehouse_id)
        .where(Stock.variant_id == variant_id)
        .order_by(Warehouse.priority, Warehouse.code)
        # Conditional updates change rows behind the ORM's back: always read them afresh.
        .execution_options(populate_existing=True)
    )
    return [(s, w) for s, w in rows.all()]


async def _move_units(
    session: AsyncSession,
    variant_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    condition: ColumnElement[bool],
    **values: Any,
) -> bool:
    """One conditional update of a stock row: ``values`` apply only while ``condition``."""
    return await _changed(session, update(Stock).where(
        Stock.variant_id == variant_id, Stock.warehouse_id == warehouse_id, condition,
    ).values(**values))  # fmt: skip


async def try_reserve(
    session: AsyncSession, variant_id: uuid.UUID, warehouse_id: uuid.UUID, quantity: int
) -> bool:
    """Promise ``quantity`` units if that many are still free there (one atomic update)."""
    return await _move_units(session, variant_id, warehouse_id,
                             Stock.on_hand - Stock.reserved >= quantity,
                             reserved=Stock.reserved + quantity)  # fmt: skip


async def unreserve(
    session: AsyncSession, variant_id: uuid.UUID, warehouse_id: uuid.UUID, quantity: int
) -> bool:
    """Give back promised units."""
    return await _move_units(session, variant_id, warehouse_id, Stock.reserved >= quantity,
                             reserved=Stock.reserved - quantity)  # fmt: skip


async def ship_reserved(
    session: AsyncSession, variant_id: uuid.UUID, warehouse_id: uuid.UUID, quantity: int
) -> bool:
    """Turn promised units into sold ones (they leave ``on_hand``)."""
    return await _move_units(session, variant_id, warehouse_id,
                             (Stock.reserved >= quantity) & (Stock.on_hand >= quantity),
                             reserved=Stock.reserved - quantity,
                             on_hand=Stock.on_hand - quantity)  # fmt: skip


async def mark_reservation(
    session: AsyncSession, reservation_id: uuid.UUID, source: str, status: str
) -> bool:
    """Move a reservation from ``source`` to ``status``; False when it is no longer there."""
    return await _changed(
        session,
        update(Reservation)
        .where(
            Reservation.id == reservation_id,
            Reservation.status == source,
        )
        .values(status=status),
    )


async def mark_restocked(session: AsyncSession, reservation_id: uuid.UUID, quantity: int) -> bool:
    """Count ``quantity`` more units of a shipped record as back on the shelf, never more
    than it shipped."""
    return await _changed(session, update(Reservation).where(
        Reservation.id == reservation_id,
        Reservation.status == ReservationStatus.SHIPPED,
        Reservation.restocked + quantity <= Reservation.quantity,
    ).values(restocked=Reservation.restocked + quantity))  # fmt: skip


async def expired_orders(session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
    """Orders holding active reservations past their expiry, oldest first."""
    rows = await session.execute(
        select(Reservation.order_id)
        .where(Reservation.status == ReservationStatus.ACTIVE, Reservation.expires_at <= now)
        .group_by(Reservation.order_id)
        .order_by(Reservation.order_id)
        .limit(limit)
    )
    return list(rows.scalars().all())


async def of_order(session: AsyncSession, order_id: uuid.UUID) -> Sequence[Reservation]:
    """An order's reservations."""
    rows = await session.execute(
        select(Reservation)
        .where(Reservation.order_id == order_id)
        .order_by(Reservation.id)
        .execution_options(populate_existing=True)
    )
    return rows.scalars().all()


async def adjust(
    session: AsyncSession, variant_id: uuid.UUID, warehouse_id: uuid.UUID, delta: int
) -> bool:
    """Add ``delta`` units on hand, never below what is reserved; False when no row changed
    (none exists yet, or it would go below)."""
    return await _move_units(session, variant_id, warehouse_id,
                             Stock.on_hand + delta >= Stock.reserved,
                             on_hand=Stock.on_hand + delta)  # fmt: skip
