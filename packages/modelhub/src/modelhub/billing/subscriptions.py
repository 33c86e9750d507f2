"""Consumer plan subscriptions through the payment provider: subscribe, upgrade or downgrade
(prorated by the provider), cancel at the end of the paid period.

Every provider call carries an idempotency key derived from (consumer, change number, step),
so a retried request replays at the provider instead of subscribing or charging twice.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, NotFound, ServiceUnavailable, Unprocessable
from forgekit.payments import PaymentError, PaymentProvider, Price, StripeAdapter, Subscription
from forgekit.payments.errors import CardDeclined, InvalidRequest
from modelhub.billing.models import SUBSCRIPTION_RANK, BillingCustomer, BillingSubscription
from modelhub.billing.schemas import SubscriptionChange, SubscriptionRead
from modelhub.settings import ModelhubSettings


def provider_for(settings: ModelhubSettings) -> StripeAdapter:
    """An adapter to the configured provider (close it after use); 503 when none is."""
    if not settings.payments_base_url:
        raise ServiceUnavailable("Payments are not configured on this server.")
    return StripeAdapter(
        settings.payments_base_url, settings.payments_api_key, settings.payments_timeout_s
    )


def plan_amount(settings: ModelhubSettings, plan: str) -> int:
    """The plan's monthly price in minor units; 422 for a plan that does not exist."""
    if plan not in settings.subscription_plans:
        known = ", ".join(sorted(settings.subscription_plans))
        raise Unprocessable(f"Unknown plan {plan!r}; plans: {known}.")
    return settings.subscription_plans[plan]


async def plan_price(provider: PaymentProvider, settings: ModelhubSettings, plan: str) -> Price:
    """The provider's recurring price of ``plan`` (created once per plan, amount and currency:
    the key makes every later call a replay)."""
    amount = plan_amount(settings, plan)
    key = f"modelhub-plan-{plan}-{amount}-{settings.currency}"
    return await provider.create_price(
        f"Modelhub {plan}", amount, settings.currency, "month", idempotency_key=key
    )


def _read(row: BillingSubscription, settings: ModelhubSettings) -> SubscriptionRead:
    return SubscriptionRead(
        plan=row.plan, amount=settings.subscription_plans.get(row.plan, 0),
        currency=settings.currency, status=row.status,
        cancel_at_period_end=row.cancel_at_period_end,
        current_period_end=row.current_period_end,
    )  # fmt: skip


def _mirror(row: BillingSubscription, sub: Subscription, plan: str) -> None:
    if row.provider_id != sub.id:
        row.event_created = 0  # a new subscription: no event of it applied yet
    row.provider_id, row.plan, row.status = sub.id, plan, sub.status
    row.cancel_at_period_end = sub.cancel_at_period_end
    row.current_period_end = sub.current_period_end
    row.updated_at = utcnow()
    # What the provider answered now is at least as new as any event sent before it.
    row.event_created = max(row.event_created or 0, int(time.time()))


async def ensure_customer(
    session: AsyncSession, provider: PaymentProvider, consumer_id: uuid.UUID, email: str,
    payment_method: str | None,
) -> str:  # fmt: skip
    """The consumer's provider customer id, made once (key per consumer; the row is added
    to the caller's session), with ``payment_method`` attached as its default if given."""
    stmt = select(BillingCustomer.provider_id).where(BillingCustomer.consumer_id == consumer_id)
    existing = (await session.execute(stmt)).scalar_one_or_none()
    if existing is None:
        customer = await provider.create_customer(
            email, metadata={"consumer_id": str(consumer_id)},
            idempotency_key=f"modelhub-customer-{consumer_id}",
        )  # fmt: skip
        existing = customer.id
        session.add(BillingCustomer(consumer_id=consumer_id, provider_id=existing))
    if payment_method:
        await provider.attach_payment_method(
            existing, payment_method,
            idempotency_key=f"modelhub-customer-{consumer_id}-pm-{payment_method}",
        )  # fmt: skip
    return existing


def _plan_of(settings: ModelhubSettings, obj: dict[str, Any]) -> str | None:
    """The plan whose monthly amount the subscription's price has (None when no single
    plan has it: the mirror keeps its plan)."""
    try:
        amount = int(obj["items"]["data"][0]["price"]["unit_amount"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    names = [name for name, value in settings.subscription_plans.items() if value == amount]
    return names[0] if len(names) == 1 else None


def _is_newer(row: BillingSubscription, created: int, status: str) -> bool:
    """Events carry whole seconds: a later second wins; within one, only a status further
    along (``SUBSCRIPTION_RANK``), since the order of same-second events is unknown and a
    change made through Modelhub already holds the provider's answer. Nothing brings a
    canceled subscription back."""
    if row.status == "canceled" or status not in SUBSCRIPTION_RANK:
        return False
    if created != row.event_created:
        return created > row.event_created
    return SUBSCRIPTION_RANK[status] > SUBSCRIPTION_RANK.get(row.status, 0)


async def apply_subscription_event(
    session: AsyncSession, settings: ModelhubSettings, created: int, obj: dict[str, Any]
) -> bool:
    """Apply a ``customer.subscription.*`` event to the local mirror when it is newer than
    what the mirror holds (any order, any number of deliveries); True when applied."""
    stmt = (
        select(BillingSubscription)
        .where(BillingSubscription.provider_id == str(obj.get("id")))
        .with_for_update()
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    status = str(obj.get("status"))
    if row is None or not _is_newer(row, created, status):
        return False
    row.status, row.event_created, row.updated_at = status, created, utcnow()
    row.cancel_at_period_end = bool(obj.get("cancel_at_period_end", row.cancel_at_period_end))
    if isinstance(obj.get("current_period_end"), int):
        row.current_period_end = obj["current_period_end"]
    row.plan = _plan_of(settings, obj) or row.plan
    return True


class Subscriptions:
    """The subscription use cases (the caller's session; this commits)."""

    async def _row(self, session: AsyncSession, consumer_id: uuid.UUID) -> BillingSubscription:
        stmt = select(BillingSubscription).where(BillingSubscription.consumer_id == consumer_id)
        row = (await session.execute(stmt)).scalar_one_or_none()
        if row is None:
            raise NotFound("No subscription.")
        return row

    async def get(
        self, session: AsyncSession, settings: ModelhubSettings, consumer_id: uuid.UUID
    ) -> SubscriptionRead:
        """The consumer's subscription; 404 when there is none."""
        return _read(await self._row(session, consumer_id), settings)

    async def change(
        self, session: AsyncSession, settings: ModelhubSettings, consumer_id: uuid.UUID,
        email: str, data: SubscriptionChange,
    ) -> SubscriptionRead:  # fmt: skip
        """Subscribe, or move an existing subscription to ``data.plan`` with proration."""
        plan_amount(settings, data.plan)
        stmt = select(BillingSubscription).where(BillingSubscription.consumer_id == consumer_id)
        row = (await session.execute(stmt)).scalar_one_or_none()
        async with provider_for(settings) as provider:
            try:
                price = await plan_price(provider, settings, data.plan)
                if row is None or row.status == "canceled":
                    row = await self._subscribe(session, provider, consumer_id, email, data, row,
                                                price.id)  # fmt: skip
                elif row.plan != data.plan:
                    key = f"modelhub-sub-{consumer_id}-{row.version}-plan-{data.plan}"
                    sub = await provider.update_subscription(
                        row.provider_id, price.id, "create_prorations", idempotency_key=key
                    )
                    row.version += 1
                    _mirror(row, sub, data.plan)
            except (CardDeclined, InvalidRequest) as exc:
                raise Conflict(f"The provider refused: {exc}") from exc
            except PaymentError as exc:
                raise ServiceUnavailable(f"The payment provider failed: {exc}") from exc
        try:
            await session.commit()
        except IntegrityError as exc:  # a concurrent first subscribe won the unique row
            raise Conflict("A concurrent subscription change won; retry.") from exc
        return _read(row, settings)

    async def _subscribe(
        self, session: AsyncSession, provider: PaymentProvider, consumer_id: uuid.UUID,
        email: str, data: SubscriptionChange, row: BillingSubscription | None, price_id: str,
    ) -> BillingSubscription:  # fmt: skip
        customer = await ensure_customer(session, provider, consumer_id, email,
                                         data.payment_method)  # fmt: skip
        version = row.version if row else 0
        sub = await provider.create_subscription(
            customer, price_id,
            idempotency_key=f"modelhub-sub-{consumer_id}-{version}-create-{data.plan}",
        )  # fmt: skip
        if row is None:
            row = BillingSubscription(consumer_id=consumer_id, version=0)
            session.add(row)
        row.version = version + 1
        _mirror(row, sub, data.plan)
        return row

    async def cancel(
        self, session: AsyncSession, settings: ModelhubSettings, consumer_id: uuid.UUID
    ) -> SubscriptionRead:
        """Cancel at the end of the paid period (the consumer keeps the plan until then)."""
        row = await self._row(session, consumer_id)
        if not row.cancel_at_period_end and row.status != "canceled":
            key = f"modelhub-sub-{consumer_id}-{row.version}-cancel"
            async with provider_for(settings) as provider:
                try:
                    sub = await provider.cancel_subscription(
                        row.provider_id, True, idempotency_key=key
                    )
                except PaymentError as exc:
                    raise ServiceUnavailable(f"The payment provider failed: {exc}") from exc
            row.version += 1
            _mirror(row, sub, row.plan)
            await session.commit()
        return _read(row, settings)


subscriptions = Subscriptions()
