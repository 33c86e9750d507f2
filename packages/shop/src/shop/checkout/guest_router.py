"""A guest's order: read, pay and capture with the signed ``X-Order-Token`` of checkout.

Public routes in the auth sense (no account), but each checks the token first: a missing or
wrong token is 404, as for an order that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, status

from forgekit.deps import SessionDep
from forgekit.errors import NotFound
from shop.checkout.schemas import OrderRead
from shop.orders.models import Order
from shop.orders.service import ORDER_NOT_FOUND
from shop.orders.tokens import token_matches
from shop.orders.views import order_read
from shop.payments.schemas import PaymentCreate, PaymentRead
from shop.runtime import ShopRuntimeDep

router = APIRouter(prefix="/api/v1/guest/orders", tags=["checkout"])


async def guest_order(
    order_id: uuid.UUID,
    runtime: ShopRuntimeDep,
    session: SessionDep,
    x_order_token: Annotated[str, Header(max_length=128)] = "",
) -> Order:
    """The order the token opens (404 otherwise)."""
    secret = runtime.settings.secret_key.get_secret_value()
    order = await session.get(Order, order_id)
    if order is None or not x_order_token or not token_matches(secret, order_id, x_order_token):
        raise NotFound(ORDER_NOT_FOUND)
    return order


GuestOrder = Annotated[Order, Depends(guest_order)]


@router.get("/{order_id}")
async def get_guest_order(order: GuestOrder, session: SessionDep) -> OrderRead:
    """The order, with its status, lines and totals."""
    return await order_read(session, order)


@router.post("/{order_id}/payment", status_code=status.HTTP_201_CREATED)
async def pay_guest_order(
    order: GuestOrder, data: PaymentCreate, runtime: ShopRuntimeDep, session: SessionDep
) -> PaymentRead:
    """Authorise the order's total on a card, as ``POST /orders/{id}/payment`` does."""
    order_id = order.id
    await session.close()
    return PaymentRead.model_validate(
        await runtime.payments.authorize(order_id, data.payment_method)
    )


@router.post("/{order_id}/payment/capture")
async def capture_guest_order(
    order: GuestOrder, runtime: ShopRuntimeDep, session: SessionDep
) -> PaymentRead:
    """Capture the authorised payment (once, whoever asks first) and confirm the order."""
    order_id = order.id
    await session.close()
    return PaymentRead.model_validate(await runtime.payments.capture(order_id, None))
