"""Fulfilments (shipments with tracking numbers) and returns of an order's lines.

A line's shipped and returned counts move by conditional updates (never past what was
ordered; never more returned than shipped) and the order follows through the transition
table: some units shipped is ``partially_fulfilled``, all of them ``fulfilled``; likewise for
returns. Shipped units leave their warehouses (the order's allocations). Returned units are
put back on hand, in the same transaction as the return, in the warehouse each unit
shipped from (``restock=False`` for damaged goods leaves stock alone).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import Conflict, Unprocessable
from forgekit.events.outbox import enqueue
from shop.events import SHIPMENT_CREATED, Shipped
from shop.inventory.service import inventory
from shop.orders.models import Fulfilment, FulfilmentLine, Order, OrderLine
from shop.orders.service import transition
from shop.orders.states import Action, target


async def _bump(
    session: AsyncSession, line_id: uuid.UUID, order_id: uuid.UUID, column: str, limit: str,
    quantity: int,
) -> bool:  # fmt: skip
    counted, ceiling = getattr(OrderLine, column), getattr(OrderLine, limit)
    result = await session.execute(
        update(OrderLine)
        .where(OrderLine.id == line_id, OrderLine.order_id == order_id,
               counted + quantity <= ceiling)
        .values({column: counted + quantity}),
        execution_options={"synchronize_session": False},
    )  # fmt: skip
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def _complete(session: AsyncSession, order_id: uuid.UUID, column: str, limit: str) -> bool:
    lines = (await session.execute(
        select(OrderLine).where(OrderLine.order_id == order_id)
        .execution_options(populate_existing=True)
    )).scalars().all()  # fmt: skip
    return all(getattr(line, column) == getattr(line, limit) for line in lines)


async def fulfil(
    session: AsyncSession, order: Order, lines: dict[uuid.UUID, int], carrier: str,
    tracking_number: str, actor: uuid.UUID | None,
) -> Fulfilment:  # fmt: skip
    """Ship units of the order's lines under one tracking number. Commits."""
    target(order.status, Action.FULFIL_PART)  # 409 at once for an order that cannot ship
    shipment = Fulfilment(order_id=order.id, carrier=carrier, tracking_number=tracking_number,
                          actor_id=actor)  # fmt: skip
    session.add(shipment)
    await session.flush()
    for line_id, quantity in lines.items():
        line = await session.get(OrderLine, line_id)
        if line is None or not await _bump(session, line_id, order.id, "fulfilled", "quantity",
                                           quantity):  # fmt: skip
            raise Conflict("More units than the line has left to ship (or not this order's).")
        await inventory.ship(session, order.id, line.variant_id, quantity)
        session.add(FulfilmentLine(fulfilment_id=shipment.id, order_line_id=line_id,
                                   quantity=quantity))  # fmt: skip
    done = await _complete(session, order.id, "fulfilled", "quantity")
    await transition(session, order, Action.FULFIL if done else Action.FULFIL_PART, actor,
                     f"{carrier} {tracking_number}")  # fmt: skip
    await enqueue(session, SHIPMENT_CREATED, Shipped(order_id=order.id, fulfilment_id=shipment.id))
    await session.commit()
    return shipment


async def take_back(
    session: AsyncSession, order: Order, lines: dict[uuid.UUID, int], actor: uuid.UUID | None,
    note: str | None, *, restock: bool = True,
) -> int:  # fmt: skip
    """Record returned units and (``restock``) put them back on hand where they shipped from,
    in one transaction (committed); returns their value at the prices paid, which the caller
    may refund."""
    target(order.status, Action.RETURN_PART)
    value = 0
    for line_id, quantity in lines.items():
        line = await session.get(OrderLine, line_id)
        if line is None or not await _bump(session, line_id, order.id, "returned", "fulfilled",
                                           quantity):  # fmt: skip
            raise Conflict("More units than were shipped on that line (or not this order's).")
        if restock:
            await inventory.restock(session, order.id, line.variant_id, quantity)
        value += line.unit_price * quantity
    done = await _complete(session, order.id, "returned", "quantity")
    await transition(session, order, Action.RETURN if done else Action.RETURN_PART, actor, note)
    await session.commit()
    return value


async def shipments(session: AsyncSession, order_id: uuid.UUID) -> Sequence[Fulfilment]:
    """An order's shipments, oldest first."""
    rows = await session.execute(
        select(Fulfilment).where(Fulfilment.order_id == order_id)
        .order_by(Fulfilment.created_at, Fulfilment.id)
    )  # fmt: skip
    return rows.scalars().all()


def check_lines(lines: dict[uuid.UUID, int]) -> None:
    """At least one line, positive quantities."""
    if not lines or any(q <= 0 for q in lines.values()):
        raise Unprocessable("Name at least one line with a positive quantity.")
