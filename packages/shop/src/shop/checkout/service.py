"""Checkout: one transaction turns a cart into an unconfirmed order that holds its stock.

The caller commits it, together with the order's fraud verdict and the funnel's checkout event
(:func:`shop.checkout.router.check_out`): one commit per checkout.

Prices are read again at checkout (the cart stores quantities only); a discount code's use is
counted by a conditional update (never above its limit, never after expiry); stock is held by
:meth:`InventoryService.reserve` until the order is paid or the reservation expires. Any
refusal rolls the whole transaction back: no order, no held unit, no used code.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, NotFound, Unprocessable
from shop.accounts.service import accounts
from shop.cart.service import PricedLine, priced_lines
from shop.catalogue.models import Channel
from shop.checkout.models import Discount
from shop.checkout.rules import Basket, rules_from_settings
from shop.checkout.schemas import Address, CheckoutRequest, DiscountCreate, DiscountKind
from shop.inventory.service import inventory
from shop.orders.models import Order, OrderLine
from shop.orders.service import transition
from shop.orders.states import Action, Status
from shop.settings import ShopSettings


class DiscountUnavailable(Conflict):
    """409: the code is unknown, expired, used up or for another currency."""

    slug, title = "discount-unavailable", "Discount code unavailable"


class PricesChanged(Conflict):
    """409: the total differs from the one the customer was shown."""

    slug, title = "prices-changed", "Prices changed"


async def create_discount(session: AsyncSession, data: DiscountCreate) -> Discount:
    """A new discount code (409 when taken). Commits."""
    discount = Discount(
        code=data.code,
        kind=data.kind.value,
        value=data.value,
        currency=data.currency,
        max_uses=data.max_uses,
        expires_at=data.expires_at,
    )
    session.add(discount)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("A discount with this code exists.") from None
    return discount


async def _use_discount(
    session: AsyncSession, code: str, channel: Channel, subtotal: int
) -> tuple[Discount, int]:
    """Count one use of ``code`` (conditional update) and return it with its amount."""
    now = utcnow()
    result = await session.execute(
        update(Discount)
        .where(
            Discount.code == code,
            or_(Discount.max_uses.is_(None), Discount.used < Discount.max_uses),
            or_(Discount.expires_at.is_(None), Discount.expires_at > now),
        )
        .values(used=Discount.used + 1),
        execution_options={"synchronize_session": False},
    )
    discount = await session.scalar(select(Discount).where(Discount.code == code))
    if int(result.rowcount) != 1 or discount is None:  # type: ignore[attr-defined]
        raise DiscountUnavailable("This discount code is unknown, expired or used up.")
    if discount.kind == DiscountKind.FIXED and discount.currency != channel.currency:
        raise DiscountUnavailable(f"This code is for {discount.currency}, not {channel.currency}.")
    if discount.kind == DiscountKind.PERCENTAGE:
        return discount, (subtotal * discount.value * 2 + 10_000) // 20_000
    if discount.kind == DiscountKind.FIXED:
        return discount, min(discount.value, subtotal)
    return discount, 0


def _check(
    priced: list[PricedLine],
    channel: Channel,
    data: CheckoutRequest,
    customer: tuple[uuid.UUID, str] | None,
) -> str:
    """Refuse an empty cart, a line not sold in the channel, or no e-mail to write to;
    returns the order's e-mail address."""
    if not priced:
        raise Unprocessable("The cart is empty (or nothing in it is for sale any more).")
    unpriced = [p.variant.sku for p in priced if p.unit_price is None]
    if unpriced:
        raise Conflict(f"Not sold in channel {channel.code}: {', '.join(unpriced)}.")
    email = str(data.email) if data.email else (customer[1] if customer else None)
    if email is None:
        raise Unprocessable("An e-mail address is needed to check out without an account.")
    if data.shipping_address is None:
        raise Unprocessable("A shipping address is needed (none given, no default saved).")
    return email


def _address(data: CheckoutRequest) -> dict[str, Any]:
    assert data.shipping_address is not None  # _check refused the request otherwise
    return data.shipping_address.model_dump()


class CheckoutService:
    """Carts become orders."""

    async def checkout(
        self,
        session: AsyncSession,
        settings: ShopSettings,
        lines: dict[uuid.UUID, int],
        channel: Channel,
        customer: tuple[uuid.UUID, str] | None,
        data: CheckoutRequest,
    ) -> Order:
        """Create the order, hold its stock, count the code. The caller screens it, commits
        and empties the cart."""
        priced = await priced_lines(session, lines, channel)
        email = _check(priced, channel, data, customer)
        buyer = customer[0] if customer else None
        order = Order(
            customer_id=buyer,
            email=email,
            channel_id=channel.id,
            currency=channel.currency,
            status=Status.DRAFT,
            subtotal=0,
            total=0,
            shipping_address=_address(data),
        )
        session.add(order)
        await session.flush()
        await self._price(session, settings, order, priced, channel, data)
        expires = utcnow() + timedelta(seconds=settings.reservation_ttl_s)
        for line in priced:
            session.add(
                OrderLine(
                    order_id=order.id,
                    variant_id=line.variant.id,
                    sku=line.variant.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_price=line.unit_price or 0,
                    weight_grams=line.variant.weight_grams,
                )
            )
            await inventory.reserve(session, order.id, line.variant.id, line.quantity, expires)
        placed = await transition(session, order, Action.PLACE, buyer)
        placed.expires_at = expires
        return placed

    async def _price(
        self,
        session: AsyncSession,
        settings: ShopSettings,
        order: Order,
        priced: list[PricedLine],
        channel: Channel,
        data: CheckoutRequest,
    ) -> None:
        subtotal = sum((p.unit_price or 0) * p.quantity for p in priced)
        discount, amount = (
            await _use_discount(session, data.discount_code, channel, subtotal)
            if data.discount_code
            else (None, 0)
        )
        basket = Basket(
            subtotal=subtotal,
            discount=amount,
            currency=channel.currency,
            weight_grams=sum(p.variant.weight_grams * p.quantity for p in priced),
            address=_address(data),
        )
        shipping_rule, tax_rule = rules_from_settings(settings)
        free = discount is not None and discount.kind == DiscountKind.FREE_SHIPPING
        shipping = 0 if free else shipping_rule.shipping(basket)
        tax = tax_rule.tax(basket, shipping)
        order.subtotal, order.discount, order.shipping, order.tax = subtotal, amount, shipping, tax
        order.total = subtotal - amount + shipping + tax
        order.discount_code = discount.code if discount else None
        if data.expected_total is not None and data.expected_total != order.total:
            raise PricesChanged(
                f"The total is now {order.total}, not {data.expected_total}.", total=order.total
            )


async def with_saved_address(
    session: AsyncSession, data: CheckoutRequest, user_id: uuid.UUID | None
) -> CheckoutRequest:
    """``data`` with its shipping address filled in from the address book when it names a
    saved address (or none at all, for a customer with a default)."""
    if data.shipping_address is not None:
        return data
    saved = await accounts.order_address(session, user_id, data.shipping_address_id)
    if saved is None:
        return data
    return data.model_copy(update={"shipping_address": Address.model_validate(saved)})


async def channel_or_default(session: AsyncSession, code: str | None) -> Channel:
    """The channel ``code``, or the first one."""
    stmt = (
        select(Channel).where(Channel.code == code)
        if code
        else select(Channel).order_by(Channel.code).limit(1)
    )
    channel = await session.scalar(stmt)
    if channel is None:
        raise NotFound(f"Unknown channel {code!r}." if code else "The shop has no channel.")
    return channel


checkout = CheckoutService()
