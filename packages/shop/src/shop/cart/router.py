"""Carts over HTTP: a signed-in customer's cart, or an anonymous one by ``X-Cart-Token``."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.deps import SessionDep
from forgekit.identity.deps import CurrentPrincipal
from shop.analytics.models import EventKind
from shop.analytics.service import adopt_anonymous, record, visitor_of_cart
from shop.cart.schemas import CartMerge, CartRead, CartToken, LineAdd, LineSet
from shop.cart.service import CartKey, cart_key, cart_read, new_token, priced_lines, sellable
from shop.cart.store import Lines
from shop.catalogue.schemas import ChannelCode
from shop.checkout.service import channel_or_default
from shop.runtime import ShopRuntimeDep

router = APIRouter(prefix="/api/v1", tags=["cart"])


async def _read(session: AsyncSession, lines: Lines, channel: str | None) -> CartRead:
    found = await channel_or_default(session, channel)
    return cart_read(await priced_lines(session, lines, found), found)


@router.post("/carts", status_code=status.HTTP_201_CREATED)
async def new_cart() -> CartToken:
    """An anonymous cart: keep the token and send it as ``X-Cart-Token`` (public)."""
    return CartToken(token=new_token())


@router.get("/cart")
async def get_cart(
    cart: CartKey, runtime: ShopRuntimeDep, session: SessionDep, channel: ChannelCode | None = None
) -> CartRead:
    """The cart priced now in a channel."""
    return await _read(session, await runtime.carts.lines(cart), channel)


@router.post("/cart/lines")
async def add_line(
    data: LineAdd,
    cart: CartKey,
    runtime: ShopRuntimeDep,
    session: SessionDep,
    channel: ChannelCode | None = None,
) -> CartRead:
    """Add units of a variant for sale (quantities add up, capped per line)."""
    variant = await sellable(session, data.variant_id)
    lines = await runtime.carts.add(cart, data.variant_id, data.quantity)
    await record(session, EventKind.CARTED, visitor_of_cart(cart), variant_id=variant.id,
                 product_id=variant.product_id, quantity=data.quantity)  # fmt: skip
    return await _read(session, lines, channel)


@router.put("/cart/lines/{variant_id}")
async def set_line(
    variant_id: uuid.UUID,
    data: LineSet,
    cart: CartKey,
    runtime: ShopRuntimeDep,
    session: SessionDep,
    channel: ChannelCode | None = None,
) -> CartRead:
    """Set a line's quantity; 0 removes it."""
    if data.quantity:
        await sellable(session, variant_id)
    return await _read(session, await runtime.carts.set(cart, variant_id, data.quantity), channel)


@router.post("/cart/merge")
async def merge_cart(
    data: CartMerge,
    principal: CurrentPrincipal,
    runtime: ShopRuntimeDep,
    session: SessionDep,
    channel: ChannelCode | None = None,
) -> CartRead:
    """At sign-in: move the anonymous cart's lines into the customer's cart."""
    lines = await runtime.carts.merge(cart_key(None, data.token), cart_key(principal, None))
    await adopt_anonymous(session, data.token, principal.user_id)
    return await _read(session, lines, channel)
