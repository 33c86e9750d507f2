"""Order rules: every status change goes through :func:`transition` (the table in
:mod:`shop.orders.states`, a conditional update, a history row and an outbox event, in the
caller's transaction)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import NotFound
from forgekit.events.outbox import enqueue
from forgekit.identity.principal import Principal
from shop.events import OrderTransition, order_event
from shop.inventory.service import inventory
from shop.orders import repository
from shop.orders.models import Order, OrderHistory
from shop.orders.states import Action, IllegalTransition, Status, target
from shop.permissions import Permission

ORDER_NOT_FOUND = "Order not found."


async def transition(
    session: AsyncSession,
    order: Order,
    action: Action,
    actor: uuid.UUID | None,
    note: str | None = None,
) -> Order:
    """Apply ``action`` to ``order`` (flushed, not committed); 409 when the table forbids it
    or another transaction moved the order first."""
    source = order.status
    to = target(source, action)
    extra = {"expires_at": None} if source == Status.UNCONFIRMED else {}
    if not await repository.move(session, order.id, source, to.value, **extra):
        current = await repository.fresh(session, order.id)
        raise IllegalTransition(
            f"The order is no longer {source}; it is {current.status if current else 'gone'}.",
            current_status=current.status if current else None,
            action=action.value,
        )
    session.add(
        OrderHistory(
            order_id=order.id,
            action=action.value,
            from_status=source,
            to_status=to.value,
            actor_id=actor,
            note=note,
        )
    )
    await enqueue(
        session,
        order_event(action.value),
        OrderTransition(
            order_id=order.id,
            action=action.value,
            from_status=source,
            to_status=to.value,
            total=order.total,
            currency=order.currency,
        ),
        metadata={"actor_id": str(actor)} if actor else None,
    )
    await session.flush()
    refreshed = await repository.fresh(session, order.id)
    assert refreshed is not None  # the row was just updated in this transaction
    return refreshed


async def visible_order(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    """An order the caller may see: their own, or any for staff (404 otherwise)."""
    order = await session.get(Order, order_id)
    staff = principal.has(Permission.ORDER_MANAGE)
    if order is None or (order.customer_id != principal.user_id and not staff):
        raise NotFound(ORDER_NOT_FOUND)
    return order


class OrderService:
    """Confirmation, cancellation and expiry (fulfilment and returns build on these)."""

    async def confirm(
        self,
        session: AsyncSession,
        order_id: uuid.UUID,
        actor: uuid.UUID | None,
        note: str | None = None,
    ) -> Order:
        """unconfirmed → unfulfilled: the order is paid; its stock is allocated. Commits."""
        order = await _get(session, order_id)
        order = await transition(session, order, Action.CONFIRM, actor, note)
        await inventory.allocate(session, order.id)
        await session.commit()
        return order

    async def cancel(
        self,
        session: AsyncSession,
        order_id: uuid.UUID,
        actor: uuid.UUID | None,
        note: str | None = None,
    ) -> Order:
        """→ cancelled; its held stock is freed. Commits."""
        order = await _get(session, order_id)
        order = await transition(session, order, Action.CANCEL, actor, note)
        await inventory.release(session, order.id)
        await session.commit()
        return order

    async def expire_due(self, session: AsyncSession, now: datetime, limit: int = 100) -> int:
        """Expire unconfirmed orders whose reservations ran out, freeing their stock. Each
        order in its own transaction; one confirmed meanwhile is left alone. Returns how many
        expired."""
        from shop.inventory.repository import expired_orders

        expired = 0
        for order_id in await expired_orders(session, now, limit):
            order = await repository.fresh(session, order_id)
            # Only an unconfirmed order holds active reservations (confirming allocates them).
            if order is None or order.status != Status.UNCONFIRMED:
                continue
            try:
                await transition(session, order, Action.EXPIRE, None, "unpaid in time")
            except IllegalTransition:
                # Confirmed (paid) between the read and the update: its stock stays held.
                await session.rollback()
                continue
            await inventory.release(session, order_id)
            await session.commit()
            expired += 1
        return expired


async def _get(session: AsyncSession, order_id: uuid.UUID) -> Order:
    order = await repository.fresh(session, order_id)
    if order is None:
        raise NotFound(ORDER_NOT_FOUND)
    return order


orders = OrderService()
