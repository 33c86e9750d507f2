"""The purchase saga's worker: order → charge → grant → notify; compensation: refund, revoke.

Each ``purchase.step`` event runs one step in the consumer's transaction, which also stores
the next step and enqueues its event (the outbox): the saga's state is in the database and
moves only when a step's effects are recorded. Every step is idempotent: the charge and the
refund carry idempotency keys made of the saga id and the step (``purchase-<id>-charge``), so
a worker killed after the provider charged but before the commit charges nothing more when
the step runs again; the grant is an upsert; a stale or duplicate event (the row has moved
on) does nothing. A provider timeout raises, and the bus retries the step with the same key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.events import Event
from forgekit.events.outbox import enqueue
from forgekit.identity.models import User
from forgekit.payments.errors import PaymentError, ProviderUnavailable
from forgekit.payments.stripe import StripeAdapter
from modelhub.billing import ledger
from modelhub.events import PURCHASE_STEP, PurchaseStep
from modelhub.grants.models import ModelGrant
from modelhub.purchases.models import FINAL, Purchase, Step
from modelhub.registry.models import MarketModel, ModelStatus
from modelhub.usage.models import UsageSource
from modelhub.usage.service import usage

if TYPE_CHECKING:
    from modelhub.runtime import ModelhubRuntime

log = logging.getLogger("modelhub.purchases")
CONSUMER = "purchases.saga"
#: A test hook's extra halt point: after the provider charged, before the step commits.
CHARGED_UNRECORDED = "charge-recorded"


class PurchaseSaga:
    """Runs saga steps; one instance per worker process."""

    def __init__(self, runtime: ModelhubRuntime) -> None:
        self.runtime = runtime
        self._provider: StripeAdapter | None = None
        self.steps: dict[str, Callable[[AsyncSession, Purchase], Awaitable[Step]]] = {
            Step.CHARGE.value: self.charge, Step.GRANT.value: self.grant,
            Step.NOTIFY.value: self.notify, Step.REFUND.value: self.refund,
        }  # fmt: skip

    @property
    def provider(self) -> StripeAdapter:
        """The payment provider's adapter (built on first use)."""
        if self._provider is None:
            s = self.runtime.app_settings
            self._provider = StripeAdapter(s.payments_base_url, s.payments_api_key,
                                           s.payments_timeout_s)  # fmt: skip
        return self._provider

    async def _halt(self, point: str) -> None:
        # Tests kill the worker here (MODELHUB_SAGA_HALT_BEFORE); never set in production.
        if self.runtime.app_settings.saga_halt_before == point:
            log.warning("saga halted before %s (test hook)", point)
            await asyncio.Event().wait()

    async def handle(self, event: Event, session: AsyncSession) -> None:
        """Run the step named by a ``purchase.step`` event, if the saga still stands there."""
        message = PURCHASE_STEP.parse(event)
        await self._halt(message.step)
        purchase = await session.get(Purchase, message.purchase_id, with_for_update=True)
        if purchase is None or purchase.step != message.step or purchase.step in FINAL:
            return  # a duplicate or stale event: that step has run
        after = await self.steps[purchase.step](session, purchase)
        purchase.step, purchase.updated_at = after.value, utcnow()
        if after.value not in FINAL:
            await enqueue(session, PURCHASE_STEP,
                          PurchaseStep(purchase_id=purchase.id, step=after.value))  # fmt: skip
        log.info("purchase %s: %s → %s", purchase.id, message.step, after.value)

    async def charge(self, session: AsyncSession, p: Purchase) -> Step:
        """Charge the order (key ``purchase-<id>-charge``); a decline ends the saga."""
        try:
            intent = await self.provider.create_payment_intent(
                p.amount, p.currency, payment_method=p.payment_method,
                metadata={"purchase_id": str(p.id)}, idempotency_key=f"purchase-{p.id}-charge",
            )  # fmt: skip
        except ProviderUnavailable:
            raise  # outcome unknown: the bus retries this step with the same key
        except PaymentError as exc:
            p.error = str(exc)[:1000]
            return Step.FAILED
        await self._halt(CHARGED_UNRECORDED)
        p.payment_intent_id = intent.id
        if intent.status != "succeeded":
            p.error = f"payment {intent.status}"
            return Step.REFUND if intent.amount_received else Step.FAILED
        return Step.GRANT

    async def grant(self, session: AsyncSession, p: Purchase) -> Step:
        """Grant access (an upsert); a model no longer on sale is compensated."""
        model = await session.get(MarketModel, p.model_id)
        if model is None or model.deleted_at is not None or model.status != ModelStatus.PUBLISHED:
            p.error = "the model is no longer available"
            return Step.REFUND
        stmt = select(ModelGrant).where(ModelGrant.consumer_id == p.consumer_id,
                                        ModelGrant.model_id == p.model_id)  # fmt: skip
        grant = (await session.execute(stmt)).scalar_one_or_none()
        if grant is None:
            session.add(ModelGrant(consumer_id=p.consumer_id, model_id=p.model_id,
                                   source="purchase", reference=str(p.id)))  # fmt: skip
        else:
            grant.revoked_at, grant.reference, grant.source = None, str(p.id), "purchase"
        await usage.record(session, p.consumer_id, model, UsageSource.PURCHASE)
        return Step.NOTIFY

    async def notify(self, session: AsyncSession, p: Purchase) -> Step:
        """Credit the publisher their share (once: the ledger reference is the purchase),
        e-mail the buyer (at least once: a redelivery may send it again)."""
        user = await session.get(User, p.consumer_id)
        model = await session.get(MarketModel, p.model_id)
        if model is not None:
            await ledger.credit_purchase(
                session, self.runtime.app_settings.publisher_share_bps, p.id, model.owner_id,
                p.amount, p.currency, model.slug,
            )  # fmt: skip
        if user is not None and model is not None:
            amount = f"{p.amount / 100:.2f} {p.currency.upper()}"
            await self.runtime.mailer.send(
                user.email, f"You bought {model.slug}",
                f"Your purchase of {model.slug} ({amount}) is complete: you can call it now.",
            )  # fmt: skip
        return Step.COMPLETED

    async def refund(self, session: AsyncSession, p: Purchase) -> Step:
        """Compensate: refund the charge (key ``purchase-<id>-refund``), revoke the grant."""
        if p.payment_intent_id is not None:
            refund = await self.provider.create_refund(
                p.payment_intent_id, idempotency_key=f"purchase-{p.id}-refund"
            )
            p.refund_id = refund.id
        await session.execute(
            update(ModelGrant)
            .where(ModelGrant.reference == str(p.id), ModelGrant.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )  # fmt: skip
        return Step.COMPENSATED

    async def start(self) -> None:
        """Nothing to start (the provider's client opens on first use)."""

    async def stop(self) -> None:
        """Close the provider's client."""
        if self._provider is not None:
            await self._provider.aclose()

    consumer_group: str | None = "purchases"


def register(runtime: ModelhubRuntime) -> PurchaseSaga:
    """Subscribe the saga's worker."""
    saga = PurchaseSaga(runtime)
    runtime.events.subscribe(CONSUMER, [PURCHASE_STEP], saga.handle, prefetch=4)
    runtime.services.append(saga)
    return saga
