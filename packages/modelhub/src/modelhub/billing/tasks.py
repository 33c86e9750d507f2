"""Billing's background work: the periodic billing job and the dunning e-mails.

The job (a :class:`~forgekit.periodic.PeriodicJob`, consumer group ``billing``) invoices last
month's usage, retries the past-due invoices whose time has come and pays out publishers'
balances for last month (transfers to their connected accounts); every step is idempotent,
so any number of workers may run it and ``modelhub billing invoice|collect|payout`` runs the
same code by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.events import Event
from forgekit.identity.models import User
from forgekit.periodic import PeriodicJob
from modelhub.billing import collection, invoicing, ledger, payouts
from modelhub.billing.invoicing import InvoicingReport
from modelhub.billing.models import Payout
from modelhub.billing.payouts import SendReport
from modelhub.billing.repository import BillingRepository
from modelhub.billing.subscriptions import provider_for
from modelhub.events import BILLING_PAYMENT_FAILED

if TYPE_CHECKING:
    from modelhub.runtime import ModelhubRuntime

log = logging.getLogger("modelhub.billing")
MAIL_CONSUMER = "billing.dunning-mail"


def money(amount: int, currency: str) -> str:
    """Minor units as ``12.34 USD`` (the marketplace's currencies have cents)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d} {currency.upper()}"


async def invoice_period(runtime: ModelhubRuntime, period: str) -> InvoicingReport:
    """Invoice ``period`` (``YYYY-MM``): plan, then bill what is not settled."""
    invoicing.month_bounds(period)  # a bad period fails before any connection opens
    async with provider_for(runtime.app_settings) as provider, runtime.db.session() as session:
        return await invoicing.run(session, provider, runtime.app_settings, period)


async def collect(runtime: ModelhubRuntime) -> int:
    """Retry the past-due invoices that are due; returns how many were paid."""
    async with provider_for(runtime.app_settings) as provider, runtime.db.session() as session:
        return await collection.retry_due(session, provider, runtime.app_settings)


async def pay_out(runtime: ModelhubRuntime, period: str) -> tuple[list[Payout], SendReport]:
    """Record payouts of the balances at or above the threshold for ``period`` (once per
    attempt), then transfer every pending payout (this period's and any left by an earlier
    run) when a payment provider is configured."""
    invoicing.month_bounds(period)
    settings = runtime.app_settings
    async with runtime.db.transaction() as session:
        made = await ledger.run_payouts(session, period, settings.payout_threshold)
    if not settings.payments_base_url:
        return made, SendReport()  # recorded only: sent once a provider is configured
    async with provider_for(settings) as provider, runtime.db.session() as session:
        return made, await payouts.send_pending(session, provider)


@dataclass
class BillingPass:
    """What one pass of the billing job did."""

    invoicing: InvoicingReport | None
    collected: int
    payouts: int
    transfers: SendReport


class BillingJob(PeriodicJob):
    """Every ``billing_interval_s``: last month's invoices, due retries, last month's payouts."""

    consumer_group: str | None = "billing"
    name = "modelhub-billing"

    def __init__(self, runtime: ModelhubRuntime) -> None:
        s = runtime.app_settings
        super().__init__(s.billing_interval_s, first_delay_s=s.billing_first_delay_s)
        self.runtime = runtime

    def enabled(self) -> bool:
        """Off with an interval of 0, or with no payment provider configured."""
        s = self.runtime.app_settings
        return s.billing_interval_s > 0 and bool(s.payments_base_url)

    async def run_once(self, now: datetime | None = None) -> BillingPass:
        """One pass (``now`` for tests: which month is "last month")."""
        period = invoicing.previous_period(now or utcnow())
        report = await invoice_period(self.runtime, period)
        collected = await collect(self.runtime)
        made, sent = await pay_out(self.runtime, period)
        return BillingPass(report, collected, len(made), sent)


async def dunning_mail(runtime: ModelhubRuntime, event: Event, session: AsyncSession) -> None:
    """E-mail the consumer about a failed charge: when it is retried, or that paid access is
    suspended. The kit records the event as handled in this transaction (one mail per
    attempt, however often the event is delivered); a failed send raises and is retried."""
    failed = BILLING_PAYMENT_FAILED.parse(event)
    repo = BillingRepository(session)
    invoice = await repo.invoice(failed.invoice)
    customer = await repo.consumer_of(invoice.customer) if invoice is not None else None
    user = await session.get(User, customer.consumer_id) if customer is not None else None
    if invoice is None or user is None:
        return
    due = money(invoice.amount_due, invoice.currency)
    if failed.final:
        subject = f"Invoice {invoice.provider_id} unpaid: paid access suspended"
        text = (f"We could not collect {due} after {failed.attempt} attempts. Paid access to "
                "models is suspended; contact support to settle the invoice.\n")  # fmt: skip
    else:
        subject = f"Payment failed for invoice {invoice.provider_id} (attempt {failed.attempt})"
        text = (f"Charging {due} to your card failed. We will try again on "
                f"{failed.next_retry_at or 'the next billing run'}; please update your "
                "payment method before then.\n")  # fmt: skip
    await runtime.mailer.send(user.email, subject, text)


def register(runtime: ModelhubRuntime) -> BillingJob:
    """Subscribe the dunning mail consumer and add the billing job."""

    async def handle(event: Event, session: AsyncSession) -> None:
        await dunning_mail(runtime, event, session)

    runtime.events.subscribe(MAIL_CONSUMER, [BILLING_PAYMENT_FAILED], handle, prefetch=4)
    job = BillingJob(runtime)
    runtime.services.append(job)
    return job
