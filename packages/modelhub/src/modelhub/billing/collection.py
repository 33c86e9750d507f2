"""Collecting invoices: charge, record failures (dunning), retry on a schedule, give up.

A failed charge makes the mirrored invoice ``past_due`` with its attempt count and the time
of the next retry (``billing_retry_schedule_s``: seconds after the first failure, days 1, 3
and 7 by default). Each attempt is one row of ``billing_dunning_notices`` (unique per invoice
and attempt) and one ``billing.payment_failed`` event, whose consumer e-mails the consumer:
a failure reported twice (webhook redelivered, or by the retry job and its webhook) mails
once. When the last retry fails the invoice is marked uncollectible at the provider and the
consumer's paid access is suspended.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.events.outbox import enqueue
from forgekit.payments import Invoice, PaymentProvider
from forgekit.payments.errors import CardDeclined, InvalidRequest
from modelhub.billing import ledger
from modelhub.billing.models import STATUS_RANK, BillingInvoice, DunningNotice
from modelhub.billing.repository import BillingRepository, insert_for
from modelhub.events import BILLING_PAYMENT_FAILED, PaymentFailed
from modelhub.settings import ModelhubSettings

log = logging.getLogger("modelhub.billing")

#: Provider refusals that mean "this charge failed" (not "the provider is down").
CHARGE_FAILED = (CardDeclined, InvalidRequest)


def invoice_values(invoice: Invoice) -> dict[str, Any]:
    """The mirrored columns of a provider invoice."""
    return {
        "provider_id": invoice.id, "customer": invoice.customer, "status": invoice.status,
        "currency": invoice.currency[:3], "amount_due": invoice.amount_due,
        "amount_paid": invoice.amount_paid, "payment_intent": invoice.payment_intent,
    }  # fmt: skip


def retry_delay(schedule: list[int], attempt: int) -> timedelta | None:
    """How long after failed attempt ``attempt`` (1-based) the next one runs; None after
    the last. The schedule counts from the first failure, so the gaps are its differences."""
    if attempt > len(schedule):
        return None
    before = schedule[attempt - 2] if attempt >= 2 else 0
    return timedelta(seconds=max(schedule[attempt - 1] - before, 0))


async def mirror_paid(
    session: AsyncSession, settings: ModelhubSettings, invoice: Invoice
) -> BillingInvoice:
    """Mirror a provider invoice; when paid, credit its publishers and clear the retry."""
    row = await BillingRepository(session).mirror_invoice(invoice_values(invoice), utcnow())
    if row.status == "paid":
        row.next_retry_at = None
        await ledger.credit_paid_invoice(session, settings.publisher_share_bps, row.provider_id)
    return row


async def record_failure(
    session: AsyncSession, settings: ModelhubSettings, row: BillingInvoice, attempt: int,
    now: datetime,
) -> bool:  # fmt: skip
    """Record failed attempt ``attempt`` of ``row`` (idempotent); True when it was new, in
    which case the dunning event is enqueued in the caller's transaction."""
    if STATUS_RANK[row.status] >= STATUS_RANK["paid"]:
        return False  # settled meanwhile: a late failure report changes nothing
    stmt = insert_for(session, DunningNotice).values(
        id=uuid.uuid4(), invoice_provider_id=row.provider_id, attempt=attempt, created_at=now
    ).on_conflict_do_nothing(index_elements=[DunningNotice.invoice_provider_id,
                                             DunningNotice.attempt])  # fmt: skip
    if not (await session.execute(stmt.returning(DunningNotice.id))).first():
        return False
    delay = retry_delay(settings.billing_retry_schedule_s, attempt)
    if attempt >= row.attempt_count:
        row.attempt_count, row.status, row.updated_at = attempt, "past_due", now
        row.next_retry_at = now + delay if delay is not None else None
    await enqueue(session, BILLING_PAYMENT_FAILED, PaymentFailed(
        invoice=row.provider_id, attempt=attempt, final=delay is None,
        next_retry_at=row.next_retry_at.isoformat() if row.next_retry_at else None))  # fmt: skip
    return True


async def give_up(
    session: AsyncSession, provider: PaymentProvider, row: BillingInvoice
) -> None:
    """The last retry failed: uncollectible at the provider and here; paid access of the
    consumer suspended (staff lift it)."""
    invoice = await provider.mark_uncollectible(
        row.provider_id, idempotency_key=f"modelhub-invoice-{row.provider_id}-uncollectible"
    )
    row.status, row.next_retry_at, row.updated_at = invoice.status, None, utcnow()
    customer = await BillingRepository(session).consumer_of(row.customer)
    if customer is not None and customer.suspended_at is None:
        customer.suspended_at = utcnow()
    log.warning("invoice %s uncollectible after %d attempts", row.provider_id, row.attempt_count)


async def charge(
    session: AsyncSession, provider: PaymentProvider, settings: ModelhubSettings,
    row: BillingInvoice, attempt: int,
) -> bool:  # fmt: skip
    """Charge attempt ``attempt`` of an open invoice (key per invoice and attempt, so a
    rerun after a crash replays instead of charging again); True when paid. The caller
    commits. ``ProviderUnavailable`` propagates: the attempt's outcome is unknown."""
    key = f"modelhub-invoice-{row.provider_id}-pay-{attempt}"
    try:
        invoice = await provider.pay_invoice(row.provider_id, idempotency_key=key)
    except CHARGE_FAILED as exc:
        log.info("invoice %s attempt %d failed: %s", row.provider_id, attempt, exc)
        await record_failure(session, settings, row, attempt, utcnow())
        # The webhook of this failure may have recorded it first: read what stands now.
        await session.flush()
        await session.refresh(row)
        if row.next_retry_at is None and row.status == "past_due":
            await give_up(session, provider, row)
        return False
    await mirror_paid(session, settings, invoice)
    return True


async def retry_due(
    session: AsyncSession, provider: PaymentProvider, settings: ModelhubSettings
) -> int:
    """Retry every past-due invoice whose time has come; returns how many were paid."""
    paid = 0
    for provider_id in await BillingRepository(session).due_retries(utcnow()):
        row = await BillingRepository(session).invoice(provider_id, lock=True)
        if row is None or row.status != "past_due":
            await session.rollback()
            continue  # another worker took it
        paid += await charge(session, provider, settings, row, row.attempt_count + 1)
        await session.commit()
    return paid
