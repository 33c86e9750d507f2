"""The funnel's last step: a ``paid`` event per confirmed order, written by an outbox consumer
(so one per order, whichever of the storefront, the webhook or staff confirmed it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.events.envelope import Event
from shop.analytics.models import AnalyticsEvent, EventKind
from shop.events import order_event
from shop.orders.models import Order
from shop.orders.states import Action

CONSUMER = "shop-analytics"
ORDER_CONFIRMED = order_event(Action.CONFIRM.value)


async def record_payment(event: Event, session: AsyncSession) -> None:
    """Append the ``paid`` event of a confirmed order, under the visitor who checked it out
    (the kit records the outbox event as handled in this transaction: a redelivery adds
    nothing)."""
    paid = ORDER_CONFIRMED.parse(event)
    order = await session.get(Order, paid.order_id)
    if order is None:
        return
    visitor = await session.scalar(
        select(AnalyticsEvent.visitor)
        .where(
            AnalyticsEvent.order_id == order.id,
            AnalyticsEvent.kind == EventKind.CHECKOUT.value,
        )
        .limit(1)
    )
    if visitor is None and order.customer_id is not None:
        visitor = f"u:{order.customer_id}"
    session.add(
        AnalyticsEvent(
            kind=EventKind.PAID.value,
            at=event.timestamp,  # the moment the order was confirmed
            visitor=visitor,
            customer_id=order.customer_id,
            order_id=order.id,
            amount=order.total,
            currency=order.currency,
        )
    )


def register(runtime: Any) -> None:
    """Subscribe the analytics consumer to order confirmations."""
    runtime.events.subscribe(CONSUMER, [ORDER_CONFIRMED], record_payment)
