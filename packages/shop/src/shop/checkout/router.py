"""Checkout and discount codes over HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, status

from forgekit.deps import SessionDep
from forgekit.identity.deps import OptionalPrincipal, require_scopes
from forgekit.identity.principal import Principal
from shop.analytics.models import EventKind
from shop.analytics.service import record, visitor_of_cart
from shop.cart.service import CartKey
from shop.checkout.schemas import CheckoutRequest, DiscountCreate, DiscountRead, OrderRead
from shop.checkout.screening import ClientSignals, require_serving, screen
from shop.checkout.service import (
    channel_or_default,
    checkout,
    create_discount,
    with_saved_address,
)
from shop.ml.fraud.service import settled
from shop.orders.tokens import order_token
from shop.orders.views import order_read
from shop.permissions import Permission
from shop.runtime import ShopRuntimeDep

router = APIRouter(prefix="/api/v1", tags=["checkout"])

Staff = Annotated[Principal, Depends(require_scopes(Permission.CATALOGUE_MANAGE))]


async def client_signals(
    x_device_id: Annotated[str | None, Header(max_length=128)] = None,
    # Any length: browsers write it, and only its hash is kept.
    user_agent: Annotated[str | None, Header()] = None,
    x_client_country: Annotated[str | None, Header(max_length=8)] = None,
) -> ClientSignals:
    """The buyer's device (``X-Device-Id``, else a hash of the User-Agent) and the client
    IP's country as the proxy saw it (``X-Client-Country``), for fraud scoring."""
    return ClientSignals.from_headers(x_device_id, user_agent, x_client_country)


Client = Annotated[ClientSignals, Depends(client_signals)]


@router.post("/checkout", status_code=status.HTTP_201_CREATED)
async def check_out(
    data: CheckoutRequest,
    cart: CartKey,
    principal: OptionalPrincipal,
    runtime: ShopRuntimeDep,
    session: SessionDep,
    client: Client,
) -> OrderRead:
    """Turn the cart into an unconfirmed order holding its stock until it is paid or expires
    (``SHOP_RESERVATION_TTL_S``); the cart is emptied. A guest (anonymous cart) must give an
    e-mail and gets ``order_token`` to pay and follow the order under ``/api/v1/guest``.

    The order is fraud-scored before anything is charged: a declined one is cancelled at once
    (403, the cart kept); one sent to review may be paid, but its capture waits for staff."""
    serving = require_serving(runtime.ml)
    # Before any write: a model (re)load must not happen while stock rows are locked.
    await serving.refresh(session)
    lines = await runtime.carts.lines(cart)
    channel = await channel_or_default(session, data.channel)
    customer = (principal.user_id, principal.user.email) if principal else None
    joined = principal.user.created_at if principal else None
    data = await with_saved_address(session, data, customer[0] if customer else None)
    order = await checkout.checkout(session, runtime.app_settings, lines, channel, customer, data)
    assessed = await screen(session, serving, order, client, joined)
    read = await order_read(session, order)
    if principal is None:
        # A guest has no account to reach the order with: the signed token is the key.
        read.order_token = order_token(runtime.settings.secret_key.get_secret_value(), order.id)
    await record(session, EventKind.CHECKOUT, visitor_of_cart(cart), order_id=order.id,
                 customer_id=order.customer_id, amount=order.total, currency=order.currency,
                 commit=False)  # fmt: skip
    # One commit: the order, its held stock, the code's use, its verdict and the funnel row.
    await session.commit()
    await settled(serving, assessed)
    await runtime.carts.clear(cart)
    return read


@router.post("/discounts", status_code=status.HTTP_201_CREATED)
async def add_discount(data: DiscountCreate, _: Staff, session: SessionDep) -> DiscountRead:
    """Create a discount code (staff)."""
    return DiscountRead.model_validate(await create_discount(session, data))
