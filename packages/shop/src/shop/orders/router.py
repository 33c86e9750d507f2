"""Orders over HTTP: customers read their own; staff read all and move them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from forgekit.deps import SessionDep
from forgekit.errors import Forbidden
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from shop.checkout.schemas import (
    FulfilmentCreate,
    FulfilmentRead,
    HistoryEntry,
    LineQuantity,
    OrderNote,
    OrderRead,
    ReturnCreate,
    ReturnRead,
)
from shop.orders import repository
from shop.orders.fulfilment import fulfil, shipments, take_back
from shop.orders.service import orders, visible_order
from shop.orders.states import IllegalTransition, Status
from shop.orders.views import order_read
from shop.permissions import Permission
from shop.runtime import ShopRuntimeDep

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])

Customer = Annotated[Principal, Depends(require_scopes(Permission.SHOP))]
Staff = Annotated[Principal, Depends(require_scopes(Permission.ORDER_MANAGE))]


@router.get("")
async def my_orders(
    principal: Customer,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[OrderRead]:
    """The caller's orders, newest first."""
    found = await repository.of_customer(session, principal.user_id, limit)
    return [await order_read(session, o) for o in found]


@router.get("/{order_id}")
async def get_order(order_id: uuid.UUID, principal: Customer, session: SessionDep) -> OrderRead:
    """One order (the caller's own; staff: any)."""
    return await order_read(session, await visible_order(session, principal, order_id))


@router.get("/{order_id}/history")
async def order_history(
    order_id: uuid.UUID, principal: Customer, session: SessionDep
) -> list[HistoryEntry]:
    """Every transition of an order: from, to, who and when (tracking for the customer)."""
    order = await visible_order(session, principal, order_id)
    return [HistoryEntry.model_validate(h) for h in await repository.history(session, order.id)]


@router.post("/{order_id}/confirm")
async def confirm(
    order_id: uuid.UUID, principal: Staff, session: SessionDep, data: OrderNote | None = None
) -> OrderRead:
    """Mark an unconfirmed order as paid outside the payment provider (staff)."""
    order = await orders.confirm(session, order_id, principal.user_id, data.note if data else None)
    return await order_read(session, order)


@router.post("/{order_id}/cancel")
async def cancel(
    order_id: uuid.UUID, principal: Customer, session: SessionDep, data: OrderNote | None = None
) -> OrderRead:
    """Cancel an order: customers their own unconfirmed ones, staff any the table allows."""
    order = await visible_order(session, principal, order_id)
    if not principal.has(Permission.ORDER_MANAGE) and order.status != Status.UNCONFIRMED:
        raise IllegalTransition("Only an unpaid order can be cancelled by its customer; ask us.")
    done = await orders.cancel(session, order.id, principal.user_id, data.note if data else None)
    return await order_read(session, done)


@router.post("/{order_id}/fulfilments", status_code=status.HTTP_201_CREATED)
async def ship(
    order_id: uuid.UUID, data: FulfilmentCreate, principal: Staff, session: SessionDep
) -> FulfilmentRead:
    """Ship units of the order's lines with a tracking number (staff)."""
    order = await visible_order(session, principal, order_id)
    lines = _quantities(data.lines)
    shipment = await fulfil(session, order, lines, data.carrier, data.tracking_number,
                            principal.user_id)  # fmt: skip
    return FulfilmentRead.model_validate(shipment)


@router.get("/{order_id}/fulfilments")
async def tracking(
    order_id: uuid.UUID, principal: Customer, session: SessionDep
) -> list[FulfilmentRead]:
    """The order's shipments and their tracking numbers."""
    order = await visible_order(session, principal, order_id)
    return [FulfilmentRead.model_validate(f) for f in await shipments(session, order.id)]


@router.post("/{order_id}/returns")
async def returns(
    order_id: uuid.UUID,
    data: ReturnCreate,
    principal: Staff,
    runtime: ShopRuntimeDep,
    session: SessionDep,
) -> ReturnRead:
    """Record returned units; with ``refund`` their value goes back on the payment (staff
    holding the refund permission)."""
    if data.refund and not principal.has(Permission.REFUND):
        raise Forbidden("Refunding needs the order:refund permission.")
    order = await visible_order(session, principal, order_id)
    value = await take_back(session, order, _quantities(data.lines), principal.user_id,
                            data.note, restock=data.restock)  # fmt: skip
    refunded = 0
    if data.refund and value:
        await session.close()
        done = await runtime.payments.refund(order_id, value, principal.user_id, "returned")
        refunded = done.amount
    fresh = await visible_order(session, principal, order_id)
    return ReturnRead(order=await order_read(session, fresh), value=value, refunded=refunded)


def _quantities(lines: list[LineQuantity]) -> dict[uuid.UUID, int]:
    out: dict[uuid.UUID, int] = {}
    for line in lines:
        out[line.line_id] = out.get(line.line_id, 0) + line.quantity
    return out
