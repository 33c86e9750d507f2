"""The invoice job: an outbox consumer (worker role) issues the invoice of each paid order."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.events.envelope import Event
from shop.events import order_event
from shop.invoices.service import issue
from shop.orders.models import Order
from shop.orders.states import Action

CONSUMER = "shop-invoices"
ORDER_CONFIRMED = order_event(Action.CONFIRM.value)


def register(runtime: Any) -> None:
    """Subscribe the invoice consumer to order confirmations (payment captured, or staff
    confirmed a payment taken elsewhere)."""

    async def handle(event: Event, session: AsyncSession) -> None:
        order = await session.get(Order, ORDER_CONFIRMED.parse(event).order_id)
        if order is not None:
            await issue(session, runtime.storage, runtime.app_settings, order)

    runtime.events.subscribe(CONSUMER, [ORDER_CONFIRMED], handle)
