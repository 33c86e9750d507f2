"""Checkout and discount codes over HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from forgekit.deps import SessionDep
from forgekit.identity.deps import OptionalPrincipal, require_scopes
from forgekit.identity.principal import Principal
from shop.analytics.models import EventKind
from shop.analytics.service import record, visitor_of_cart
from shop.cart.service import CartKey
from shop.checkout.schemas import CheckoutRequest, DiscountCreate, DiscountRead, OrderRead
from shop.checkout.service import channel_or_default, checkout, create_discount
from shop.orders.views import order_read
from shop.permissions import Permission
from shop.runtime import ShopRuntimeDep

router = APIRouter(prefix="/api/v1", tags=["checkout"])

Staff = Annotated[Principal, Depends(require_scopes(Permission.CATALOGUE_MANAGE))]


@router.post("/checkout", status_code=status.HTTP_201_CREATED)
async def check_out(
    data: CheckoutRequest,
    cart: CartKey,
    principal: OptionalPrincipal,
    runtime: ShopRuntimeDep,
    session: SessionDep,
) -> OrderRead:
    """Turn the cart into an unconfirmed order holding its stock until it is paid or expires
    (``SHOP_RESERVATION_TTL_S``); the cart is emptied."""
    lines = await runtime.carts.lines(cart)
    channel = await channel_or_default(session, data.channel)
    customer = (principal.user_id, principal.user.email) if principal else None
    order = await checkout.checkout(session, runtime.app_settings, lines, channel, customer, data)
    await runtime.carts.clear(cart)
    read = await order_read(session, order)
    await record(session, EventKind.CHECKOUT, visitor_of_cart(cart), order_id=order.id,
                 customer_id=order.customer_id, amount=order.total,
                 currency=order.currency)  # fmt: skip
    return read


@router.post("/discounts", status_code=status.HTTP_201_CREATED)
async def add_discount(data: DiscountCreate, _: Staff, session: SessionDep) -> DiscountRead:
    """Create a discount code (staff)."""
    return DiscountRead.model_validate(await create_discount(session, data))
