"""Inventory rules: stock adjustments, and reservations for orders.

Allocation strategy: warehouses in priority order (then by code); each line takes what the
first warehouse can give and the rest from the next. Every unit moves by a conditional update
(:mod:`shop.inventory.repository`); when one fails because another checkout took the units
first, the levels are read again and the line tries again, a bounded number of times.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import Conflict, NotFound
from shop.catalogue.models import Variant
from shop.inventory import repository as stock
from shop.inventory.models import Reservation, ReservationStatus, Stock, Warehouse
from shop.inventory.schemas import StockLevel, WarehouseCreate

#: Re-reads of the stock levels one line may need under contention before giving up.
RESERVE_ATTEMPTS = 8


class OutOfStock(Conflict):
    """409: not enough units are free for a line."""

    slug, title = "out-of-stock", "Out of stock"


class InventoryService:
    """Warehouses, stock levels and reservations."""

    async def create_warehouse(self, session: AsyncSession, data: WarehouseCreate) -> Warehouse:
        """A new warehouse (409 when the code is taken). Commits."""
        warehouse = Warehouse(code=data.code, name=data.name, priority=data.priority)
        session.add(warehouse)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            raise Conflict("A warehouse with this code exists.") from None
        return warehouse

    async def adjust(
        self, session: AsyncSession, variant_id: uuid.UUID, warehouse_code: str, delta: int
    ) -> list[StockLevel]:
        """Receive or write off units; never below what is reserved (409). Commits."""
        variant = await session.get(Variant, variant_id)
        if variant is None or variant.deleted_at is not None:
            raise NotFound("Variant not found.")
        warehouse = await _warehouse(session, warehouse_code)
        if not await stock.adjust(session, variant_id, warehouse.id, delta):
            if delta < 0 or await session.get(Stock, (variant_id, warehouse.id)) is not None:
                raise Conflict("Stock cannot go below the units reserved for orders.")
            session.add(Stock(variant_id=variant_id, warehouse_id=warehouse.id, on_hand=delta))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            raise Conflict("The stock changed concurrently; try again.") from None
        return await self.levels(session, variant_id)

    async def levels(self, session: AsyncSession, variant_id: uuid.UUID) -> list[StockLevel]:
        """A variant's stock per warehouse."""
        return [
            StockLevel(
                warehouse=w.code,
                on_hand=s.on_hand,
                reserved=s.reserved,
                available=s.on_hand - s.reserved,
            )
            for s, w in await stock.levels(session, variant_id)
        ]

    async def reserve(
        self,
        session: AsyncSession,
        order_id: uuid.UUID,
        variant_id: uuid.UUID,
        quantity: int,
        expires_at: datetime,
    ) -> None:
        """Hold ``quantity`` units for an order across warehouses (flushed, not committed);
        :class:`OutOfStock` when they are not free."""
        needed = quantity
        for _ in range(RESERVE_ATTEMPTS):
            for level, warehouse in await stock.levels(session, variant_id):
                take = min(needed, level.on_hand - level.reserved)
                if take > 0 and await stock.try_reserve(session, variant_id, warehouse.id, take):
                    session.add(
                        Reservation(
                            order_id=order_id,
                            variant_id=variant_id,
                            warehouse_id=warehouse.id,
                            quantity=take,
                            expires_at=expires_at,
                        )
                    )
                    needed -= take
                if needed == 0:
                    await session.flush()
                    return
            if not await _any_free(session, variant_id):
                break
        raise OutOfStock("Not enough units are in stock.", variant_id=str(variant_id))

    async def allocate(self, session: AsyncSession, order_id: uuid.UUID) -> None:
        """An order is confirmed: its reservations stop expiring. A reservation the sweep
        already released is taken again if the units are still free, else :class:`OutOfStock`.
        """
        for held in await stock.of_order(session, order_id):
            if await stock.mark_reservation(
                session, held.id, ReservationStatus.ACTIVE, ReservationStatus.ALLOCATED
            ):
                continue
            if (
                held.status == ReservationStatus.RELEASED
                and await stock.try_reserve(
                    session, held.variant_id, held.warehouse_id, held.quantity
                )
                and await stock.mark_reservation(
                    session, held.id, ReservationStatus.RELEASED, ReservationStatus.ALLOCATED
                )
            ):
                continue
            raise OutOfStock("The order's units are no longer available.")

    async def release(self, session: AsyncSession, order_id: uuid.UUID) -> int:
        """Free an order's held units (expired or cancelled). Returns the units freed."""
        freed = 0
        for held in await stock.of_order(session, order_id):
            for source in (ReservationStatus.ACTIVE, ReservationStatus.ALLOCATED):
                if await stock.mark_reservation(
                    session, held.id, source, ReservationStatus.RELEASED
                ):
                    await stock.unreserve(
                        session, held.variant_id, held.warehouse_id, held.quantity
                    )
                    freed += held.quantity
                    break
        return freed

    async def ship(
        self, session: AsyncSession, order_id: uuid.UUID, variant_id: uuid.UUID, quantity: int
    ) -> None:
        """Units of an allocated order leave their warehouses (on hand and reserved drop)."""
        left = quantity
        for held in await stock.of_order(session, order_id):
            if left == 0 or held.variant_id != variant_id:
                continue
            if held.status != ReservationStatus.ALLOCATED:
                continue
            take = min(left, held.quantity)
            if not await stock.ship_reserved(session, variant_id, held.warehouse_id, take):
                raise Conflict("The reserved units are not there to ship.")
            if take == held.quantity:
                held.status = ReservationStatus.SHIPPED
            else:
                # Part of it ships: the shipped units become their own record.
                held.quantity -= take
                session.add(
                    Reservation(
                        order_id=order_id,
                        variant_id=variant_id,
                        warehouse_id=held.warehouse_id,
                        quantity=take,
                        status=ReservationStatus.SHIPPED,
                        expires_at=held.expires_at,
                    )
                )
            left -= take
        if left:
            raise Conflict("More units than the order holds.")

    async def restock(
        self, session: AsyncSession, order_id: uuid.UUID, variant_id: uuid.UUID, quantity: int
    ) -> None:
        """Returned units go back on hand in the warehouses they shipped from, in the caller's
        transaction; from several, in allocation order (warehouse priority, then code). Each
        shipped record counts what came back by a conditional update, so two returns cannot
        restock one unit twice."""
        rank = {w.id: i for i, (_, w) in enumerate(await stock.levels(session, variant_id))}
        records = await stock.of_order(session, order_id)
        shipped = sorted(records, key=lambda r: (rank.get(r.warehouse_id, len(rank)), str(r.id)))
        left = quantity
        for held in shipped:
            if left == 0 or held.variant_id != variant_id:
                continue
            if held.status != ReservationStatus.SHIPPED or held.restocked >= held.quantity:
                continue
            take = min(left, held.quantity - held.restocked)
            if not await stock.mark_restocked(session, held.id, take):
                continue  # another return took these units first: look further
            if not await stock.adjust(session, variant_id, held.warehouse_id, take):
                # The stock row went away since (never in normal use): start it again.
                session.add(Stock(variant_id=variant_id, warehouse_id=held.warehouse_id,
                                  on_hand=take))  # fmt: skip
            left -= take
        if left:
            raise Conflict("More units returned than were shipped and not yet restocked.")


async def _warehouse(session: AsyncSession, code: str) -> Warehouse:
    found = await session.scalar(select(Warehouse).where(Warehouse.code == code))
    if found is None:
        raise NotFound(f"Unknown warehouse {code!r}.")
    return found


async def _any_free(session: AsyncSession, variant_id: uuid.UUID) -> bool:
    return any(s.on_hand > s.reserved for s, _ in await stock.levels(session, variant_id))


inventory = InventoryService()
