"""Cart rules: who owns a cart, what may go in it, and its lines priced now."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import NotFound, Unauthorized
from forgekit.identity.deps import OptionalPrincipal
from forgekit.identity.principal import Principal
from shop.cart.schemas import CartLine, CartRead
from shop.catalogue.models import Channel, Product, Variant, VariantPrice
from shop.catalogue.schemas import Money

_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def new_token() -> str:
    """A fresh anonymous cart token (192 random bits)."""
    return secrets.token_urlsafe(24)


def cart_key(principal: Principal | None, token: str | None) -> str:
    """The cart of the signed-in customer, else of the anonymous token; 401 with neither."""
    if principal is not None:
        return f"u:{principal.user_id}"
    if token is not None and _TOKEN.fullmatch(token):
        return f"a:{token}"
    raise Unauthorized("Sign in or send the X-Cart-Token of an anonymous cart.")


async def cart_owner(
    principal: OptionalPrincipal,
    x_cart_token: Annotated[str | None, Header(alias="X-Cart-Token", max_length=64)] = None,
) -> str:
    """FastAPI dependency: the request's cart key (401 before the body is even read)."""
    return cart_key(principal, x_cart_token)


#: The request's cart: ``u:<user id>`` or ``a:<token>``.
CartKey = Annotated[str, Depends(cart_owner)]


@dataclass(frozen=True)
class PricedLine:
    """A cart line with what checkout needs to freeze it."""

    variant: Variant
    product: Product
    quantity: int
    unit_price: int | None

    @property
    def name(self) -> str:
        """Product name, plus the variant's when it has one."""
        return (
            f"{self.product.name} ({self.variant.name})"
            if self.variant.name
            else (self.product.name)
        )


async def sellable(session: AsyncSession, variant_id: uuid.UUID) -> Variant:
    """A live variant of a published product (404 otherwise)."""
    row = (
        await session.execute(
            select(Variant)
            .join(Product, Product.id == Variant.product_id)
            .where(
                Variant.id == variant_id,
                Variant.deleted_at.is_(None),
                Product.deleted_at.is_(None),
                Product.published_at.is_not(None),
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("This variant is not for sale.")
    return row


async def priced_lines(
    session: AsyncSession, lines: Mapping[uuid.UUID, int], channel: Channel
) -> list[PricedLine]:
    """The cart's lines still for sale, with their current prices in ``channel``, by SKU.
    Lines whose product was unpublished or deleted since are dropped."""
    if not lines:
        return []
    rows = await session.execute(
        select(Variant, Product, VariantPrice.amount)
        .join(Product, Product.id == Variant.product_id)
        .outerjoin(
            VariantPrice,
            (VariantPrice.variant_id == Variant.id) & (VariantPrice.channel_id == channel.id),
        )
        .where(
            Variant.id.in_(list(lines)),
            Variant.deleted_at.is_(None),
            Product.deleted_at.is_(None),
            Product.published_at.is_not(None),
        )
        .order_by(Variant.sku)
    )
    return [PricedLine(v, p, lines[v.id], amount) for v, p, amount in rows.all()]


def cart_read(priced: list[PricedLine], channel: Channel) -> CartRead:
    """The API's view of a priced cart."""
    out, subtotal = [], 0
    for line in priced:
        total = line.unit_price * line.quantity if line.unit_price is not None else None
        subtotal += total or 0
        out.append(
            CartLine(
                variant_id=line.variant.id,
                sku=line.variant.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=_money(line.unit_price, channel),
                line_total=_money(total, channel),
            )
        )
    return CartRead(
        channel=channel.code, lines=out, subtotal=Money(amount=subtotal, currency=channel.currency)
    )


def _money(amount: int | None, channel: Channel) -> Money | None:
    return Money(amount=amount, currency=channel.currency) if amount is not None else None
