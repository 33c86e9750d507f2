"""Customer e-mails through the kit's mailer: order confirmation, shipping and refunds.

Each is an outbox consumer: the event commits with the change that caused it, and the kit
records the event as handled by this consumer in the handler's transaction, so a redelivered
event does not mail twice; a failed send raises and the event is retried.

**Which preferences each e-mail honours** (``GET|PATCH /api/v1/me/preferences``; README):

* Order confirmation and refund receipt are *transactional*: the customer's record of the
  contract (EU consumer law asks for the confirmation on a durable medium) and of money sent
  back. They are always sent; no preference turns them off.
* The shipping notice is a *service update* the customer may opt out of: it is sent unless
  ``notifications.order_updates`` or ``notifications.shipping`` is off (both on by default).
* ``marketing_emails`` governs none of them: these e-mails carry no marketing.

Preferences belong to the account that placed the order; a guest order (no account) gets the
defaults. They are read when the event is handled, so a change made before the parcel ships
applies to that parcel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.events.envelope import Event
from forgekit.mail import Mailer
from shop.accounts.repository import profile_of
from shop.accounts.schemas import Notifications
from shop.events import REFUND_SUCCEEDED, SHIPMENT_CREATED, order_event
from shop.orders import repository
from shop.orders.models import Fulfilment, FulfilmentLine, Order, OrderLine
from shop.orders.states import Action

CONSUMER = "shop-mail"
ORDER_CONFIRMED = order_event(Action.CONFIRM.value)


def money(amount: int, currency: str) -> str:
    """Minor units as ``12.34 EUR`` (two decimals: the shop's currencies all have cents)."""
    return f"{amount // 100}.{amount % 100:02d} {currency.upper()}"


def _ref(order: Order) -> str:
    return str(order.id)[:8].upper()


#: The notification kinds (all must be on) that let each opt-out e-mail go; an e-mail not
#: named here is transactional and always sent.
OPT_OUT: dict[str, tuple[str, ...]] = {SHIPMENT_CREATED: ("order_updates", "shipping")}


async def wanted(session: AsyncSession, order: Order, event_type: str) -> bool:
    """Whether the customer's preferences let the e-mail for ``event_type`` go (see the
    module's policy)."""
    kinds = OPT_OUT.get(event_type, ())
    if not kinds or order.customer_id is None:
        return True
    profile = await profile_of(session, order.customer_id)
    # The defaults under what was stored (a row may predate a kind).
    chosen = {**Notifications().model_dump(), **(profile.notifications if profile else {})}
    return all(bool(chosen[kind]) for kind in kinds)


async def confirmation(mailer: Mailer, event: Event, session: AsyncSession) -> None:
    """ "Order confirmed": its lines and total."""
    order = await session.get(Order, ORDER_CONFIRMED.parse(event).order_id)
    if order is None:
        return
    lines = "\n".join(
        f"  {line.quantity} x {line.name} ({line.sku})  "
        f"{money(line.unit_price * line.quantity, order.currency)}"
        for line in await repository.lines(session, order.id)
    )
    text = (
        f"Thank you for your order {_ref(order)}.\n\nWe have your payment and are preparing:\n"
        f"{lines}\n\nTotal: {money(order.total, order.currency)}\n"
    )
    await mailer.send(order.email, f"Order {_ref(order)} confirmed", text)


async def shipping(mailer: Mailer, event: Event, session: AsyncSession) -> None:
    """ "Order shipped": carrier, tracking number and what is in the parcel."""
    shipped = SHIPMENT_CREATED.parse(event)
    order = await session.get(Order, shipped.order_id)
    parcel = await session.get(Fulfilment, shipped.fulfilment_id)
    if order is None or parcel is None or not await wanted(session, order, SHIPMENT_CREATED):
        return
    rows = await session.execute(
        select(OrderLine.name, FulfilmentLine.quantity)
        .join(OrderLine, OrderLine.id == FulfilmentLine.order_line_id)
        .where(FulfilmentLine.fulfilment_id == parcel.id)
        .order_by(OrderLine.sku)
    )
    contents = "\n".join(f"  {quantity} x {name}" for name, quantity in rows.all())
    text = (
        f"Your order {_ref(order)} is on its way.\n\n{contents}\n\n"
        f"Carrier: {parcel.carrier}\nTracking number: {parcel.tracking_number}\n"
    )
    await mailer.send(order.email, f"Order {_ref(order)} shipped", text)


async def refund(mailer: Mailer, event: Event, session: AsyncSession) -> None:
    """ "Refund issued": how much went back on the payment."""
    done = REFUND_SUCCEEDED.parse(event)
    order = await session.get(Order, done.order_id)
    if order is None:
        return
    text = (
        f"We have refunded {money(done.amount, done.currency)} for your order {_ref(order)} "
        "to the card you paid with. It can take a few days to appear on your statement.\n"
    )
    await mailer.send(order.email, f"Refund for order {_ref(order)}", text)


_HANDLERS: dict[str, Callable[[Mailer, Event, AsyncSession], Awaitable[None]]] = {
    ORDER_CONFIRMED: confirmation,
    SHIPMENT_CREATED: shipping,
    REFUND_SUCCEEDED: refund,
}


def register(runtime: Any) -> None:
    """Subscribe the e-mail consumer to the events that mail a customer."""

    async def handle(event: Event, session: AsyncSession) -> None:
        await _HANDLERS[event.type](runtime.mailer, event, session)

    runtime.events.subscribe(CONSUMER, list(_HANDLERS), handle)
