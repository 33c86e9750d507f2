"""Paying for orders through the payment port, safely under races.

* One payment per order (unique ``order_id``); the row is written before the provider is
  called, so a webhook that overtakes our own response finds it.
* Capture is claimed first: ``UPDATE … SET status='capturing' WHERE status='authorized'``.
  Whoever wins (the storefront's confirm or the provider's webhook) captures; the other sees
  the claim and only reports. The capture call's idempotency key is derived from the order, so
  even a retry after a timeout captures once (Medusa #13301).
* Confirming the order is the state machine's conditional transition; when it cannot happen
  any more (the order expired and its last unit went to another cart, Medusa #16825) the
  captured money is refunded at once.
* An order held by its fraud case (``review`` until staff clear it; see
  :mod:`shop.checkout.screening`) is authorised but never captured: confirm answers 409 and
  the provider's capture webhook is recorded as held.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db import Database
from forgekit.errors import Conflict, NotFound, ProblemError, ServiceUnavailable
from forgekit.events.outbox import enqueue
from forgekit.payments import CardDeclined, PaymentError, PaymentProvider, ProviderEvent
from forgekit.payments.errors import ProviderUnavailable
from shop.events import REFUND_SUCCEEDED, Refunded
from shop.inventory.service import OutOfStock
from shop.ml.fraud.service import holds_capture
from shop.orders.models import Order
from shop.orders.service import orders
from shop.orders.states import IllegalTransition, Status
from shop.payments.models import Payment, PaymentRefund, PaymentStatus, ProcessedEvent

log = logging.getLogger("shop.payments")


class PaymentDeclined(ProblemError):
    """402: the provider declined the card."""

    status, slug, title = 402, "payment-declined", "Payment declined"


class PaymentsUnavailable(ServiceUnavailable):
    """503: no provider is configured, or it did not answer (retry later)."""


class HeldForReview(Conflict):
    """409: the order's payment is held until staff review it."""

    slug, title = "payment-held", "Payment held for review"


async def _claim(session: AsyncSession, order_id: uuid.UUID, source: str, target: str) -> bool:
    result = await session.execute(
        update(Payment)
        .where(Payment.order_id == order_id, Payment.status == source)
        .values(status=target),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def payment_of(session: AsyncSession, order_id: uuid.UUID) -> Payment | None:
    """The order's payment as the database has it now."""
    return await session.scalar(
        select(Payment)
        .where(Payment.order_id == order_id)
        .execution_options(populate_existing=True)
    )


class PaymentService:
    """Authorise, capture (once), refund; and the provider's webhooks."""

    def __init__(self, db: Database, provider: PaymentProvider | None) -> None:
        self.db, self.provider = db, provider

    def _provider(self) -> PaymentProvider:
        if self.provider is None:
            raise PaymentsUnavailable("No payment provider is configured (SHOP_PAYMENTS_URL).")
        return self.provider

    async def authorize(self, order_id: uuid.UUID, payment_method: str) -> Payment:
        """Authorise the order's total on a card (captured on confirm). 409 when the order is
        not awaiting payment or already has a payment; 402 when declined."""
        provider = self._provider()
        async with self.db.session() as session:
            order = await session.get(Order, order_id)
            if order is None or order.status != Status.UNCONFIRMED:
                raise Conflict("Only an unconfirmed order can be paid.")
            payment = Payment(order_id=order.id, payment_method=payment_method,
                              status=PaymentStatus.CREATING, amount=order.total,
                              currency=order.currency)  # fmt: skip
            session.add(payment)
            try:
                await session.commit()
            except IntegrityError:
                raise Conflict("This order already has a payment.") from None
            try:
                intent = await provider.create_payment_intent(
                    order.total, order.currency, payment_method=payment_method,
                    capture_method="manual", confirm=True,
                    metadata={"order_id": str(order.id)},
                    # Per card: a declined card's key replays the decline; another card retries.
                    idempotency_key=f"shop-order-{order.id}-intent-{payment_method}",
                )  # fmt: skip
            except CardDeclined as exc:
                await session.delete(payment)
                await session.commit()
                raise PaymentDeclined(str(exc)) from None
            except PaymentError as exc:
                await session.delete(payment)
                await session.commit()
                raise PaymentsUnavailable(f"The payment provider failed: {exc}") from None
            payment.intent_id = intent.id
            await session.commit()
            await _claim(session, order.id, PaymentStatus.CREATING, PaymentStatus.AUTHORIZED)
            await session.commit()
            found = await payment_of(session, order.id)
            assert found is not None
            return found

    async def capture(self, order_id: uuid.UUID, actor: uuid.UUID | None) -> Payment:
        """Capture an authorised payment once and confirm its order (see the module doc).
        Returns the payment as it stands; a caller that lost the claim gets it unchanged."""
        provider = self._provider()
        async with self.db.session() as session:
            if await holds_capture(session, str(order_id)):
                raise HeldForReview(
                    "This order is being reviewed; its payment is taken once the review is done."
                )
            if not await _claim(session, order_id, PaymentStatus.AUTHORIZED,
                                PaymentStatus.CAPTURING):  # fmt: skip
                found = await payment_of(session, order_id)
                if found is None:
                    raise NotFound("This order has no payment.")
                return found
            await session.commit()
            payment = await payment_of(session, order_id)
            assert payment is not None and payment.intent_id is not None
            # No transaction stays open across the provider call (SQLite: the write lock).
            await session.commit()
            try:
                intent = await provider.capture_payment_intent(
                    payment.intent_id, idempotency_key=f"shop-order-{order_id}-capture"
                )
            except ProviderUnavailable as exc:
                # Outcome unknown: give the claim back; the next try reuses the key.
                await _claim(session, order_id, PaymentStatus.CAPTURING, PaymentStatus.AUTHORIZED)
                await session.commit()
                raise PaymentsUnavailable(f"The payment provider did not answer: {exc}") from None
            return await self._captured(session, payment, intent.amount_received, actor)

    async def void(self, order_id: uuid.UUID) -> Payment | None:
        """Give up on an order's payment: void an authorisation (the hold on the card goes),
        refund what was captured. None when the order has no payment; a payment mid-creation
        or mid-capture is left to finish (its order, cancelled, refunds a late capture)."""
        async with self.db.session() as session:
            payment = await payment_of(session, order_id)
            if payment is None:
                return None
            if payment.status == PaymentStatus.CAPTURED:
                await session.commit()
                if payment.captured > payment.refunded:
                    await self.refund(order_id, None, None, "refused after fraud review")
            elif await _claim(session, order_id, PaymentStatus.AUTHORIZED,
                              PaymentStatus.CANCELLED):  # fmt: skip
                await session.commit()
                await self._cancel_intent(session, payment)
            return await payment_of(session, order_id)

    async def _cancel_intent(self, session: AsyncSession, payment: Payment) -> None:
        assert payment.intent_id is not None  # authorised: the intent exists
        try:
            await self._provider().cancel_payment_intent(
                payment.intent_id, idempotency_key=f"shop-order-{payment.order_id}-cancel"
            )
        except PaymentError as exc:
            # Still authorised: give the claim back so a retry voids it.
            await _claim(session, payment.order_id, PaymentStatus.CANCELLED,
                         PaymentStatus.AUTHORIZED)  # fmt: skip
            await session.commit()
            raise PaymentsUnavailable(f"The payment provider failed: {exc}") from None

    async def _captured(
        self, session: AsyncSession, payment: Payment, amount: int, actor: uuid.UUID | None
    ) -> Payment:
        """Record a capture and confirm the order; refund when it can no longer be sold."""
        await session.execute(
            update(Payment).where(Payment.id == payment.id).values(
                status=PaymentStatus.CAPTURED, captured=amount),
            execution_options={"synchronize_session": False},
        )  # fmt: skip
        await session.commit()
        order_id = payment.order_id
        try:
            await orders.confirm(session, order_id, actor, "paid")
        except (IllegalTransition, OutOfStock) as exc:
            await session.rollback()
            order = await session.get(Order, order_id)
            fresh = await payment_of(session, order_id)
            if fresh is not None and (order is None or order.status != Status.UNFULFILLED):
                await self._refund_unsellable(session, fresh, amount, str(exc))
        found = await payment_of(session, order_id)
        assert found is not None
        return found

    async def _refund_unsellable(
        self, session: AsyncSession, payment: Payment, amount: int, why: str
    ) -> None:
        log.warning("order %s cannot be confirmed (%s): refunding", payment.order_id, why)
        refund = PaymentRefund(payment_id=payment.id, amount=amount,
                               reason=f"order not confirmable: {why}"[:500])  # fmt: skip
        if not await _reserve_refund(session, payment.id, amount):
            return
        session.add(refund)
        await session.commit()
        await self._send_refund(session, payment, refund)

    async def refund(
        self, order_id: uuid.UUID, amount: int | None, actor: uuid.UUID | None, reason: str | None
    ) -> PaymentRefund:
        """Refund all that is left, or ``amount`` of it (409 beyond what was captured)."""
        async with self.db.session() as session:
            payment = await payment_of(session, order_id)
            if payment is None or payment.status != PaymentStatus.CAPTURED:
                raise Conflict("Only a captured payment can be refunded.")
            value = payment.captured - payment.refunded if amount is None else amount
            if value <= 0 or not await _reserve_refund(session, payment.id, value):
                raise Conflict("That is more than is left to refund.")
            refund = PaymentRefund(payment_id=payment.id, amount=value, reason=reason,
                                   actor_id=actor)  # fmt: skip
            session.add(refund)
            await session.commit()
            await self._send_refund(session, payment, refund)
            return refund

    async def _send_refund(
        self, session: AsyncSession, payment: Payment, refund: PaymentRefund
    ) -> None:
        assert payment.intent_id is not None
        try:
            sent = await self._provider().create_refund(
                payment.intent_id, refund.amount, idempotency_key=f"shop-refund-{refund.id}"
            )
        except PaymentError as exc:
            # Not refunded: the amount is free to refund again.
            await session.execute(update(Payment).where(Payment.id == payment.id).values(
                refunded=Payment.refunded - refund.amount))  # fmt: skip
            refund.status = "failed"
            await session.commit()
            raise PaymentsUnavailable(f"The refund failed: {exc}") from None
        refund.status, refund.provider_id = "succeeded", sent.id
        # The refund e-mail's event commits with the succeeded status (outbox).
        done = Refunded(order_id=payment.order_id, refund_id=refund.id, amount=refund.amount,
                        currency=payment.currency)  # fmt: skip
        await enqueue(session, REFUND_SUCCEEDED, done)
        await session.commit()

    async def handle_event(self, event: ProviderEvent) -> str:
        """Act on one verified provider event, once per event id. Returns what happened."""
        async with self.db.session() as session:
            session.add(ProcessedEvent(event_id=event.id, type=event.type))
            try:
                await session.commit()
            except IntegrityError:
                return "duplicate"
            try:
                return await self._dispatch(session, event)
            except Exception:
                # Not handled: forget the id so the provider's retry is processed.
                await session.rollback()
                await session.execute(
                    delete(ProcessedEvent).where(ProcessedEvent.event_id == event.id)
                )
                await session.commit()
                raise

    async def _dispatch(self, session: AsyncSession, event: ProviderEvent) -> str:
        obj: dict[str, Any] = event.data_object
        order_id = _order_id(obj)
        if order_id is None:
            return "ignored"
        if event.type == "payment_intent.amount_capturable_updated":
            try:
                payment = await self.capture(order_id, None)
            except HeldForReview:
                # Staff's approval captures it; the provider need not retry.
                return "held"
            if payment.status == PaymentStatus.CREATING:
                # Overtook our own write of the intent id: let the provider retry.
                raise PaymentsUnavailable("The payment is still being created; retry.")
            return "captured"
        if event.type == "payment_intent.succeeded":
            found = await payment_of(session, order_id)
            if found is not None and await _claim(session, order_id, PaymentStatus.AUTHORIZED,
                                                    PaymentStatus.CAPTURING):  # fmt: skip
                await session.commit()
                await self._captured(session, found, int(obj.get("amount_received", 0)), None)
            return "recorded"
        return "ignored"


async def _reserve_refund(session: AsyncSession, payment_id: uuid.UUID, amount: int) -> bool:
    """Count ``amount`` as refunded if it fits in what was captured (conditional update)."""
    result = await session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.refunded + amount <= Payment.captured)
        .values(refunded=Payment.refunded + amount),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def _order_id(obj: dict[str, Any]) -> uuid.UUID | None:
    raw = (obj.get("metadata") or {}).get("order_id")
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None
