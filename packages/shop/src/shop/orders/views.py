"""Orders as the API shows them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shop.checkout.schemas import OrderLineRead, OrderRead
from shop.orders import repository
from shop.orders.models import Order


async def order_read(session: AsyncSession, order: Order) -> OrderRead:
    """An order with its lines."""
    lines = await repository.lines(session, order.id)
    return OrderRead(
        id=order.id,
        status=order.status,
        email=order.email,
        currency=order.currency,
        subtotal=order.subtotal,
        discount=order.discount,
        shipping=order.shipping,
        tax=order.tax,
        total=order.total,
        discount_code=order.discount_code,
        shipping_address=order.shipping_address,
        expires_at=order.expires_at,
        created_at=order.created_at,
        lines=[OrderLineRead.model_validate(line) for line in lines],
    )
