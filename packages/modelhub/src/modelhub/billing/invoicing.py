"""The monthly invoicing job: a month's billable usage → invoice items → invoice → charge.

Two phases, each safe to rerun at any point:

1. **Plan** (one transaction): per consumer, the month's usage after the free tier is priced
   per model (the same arithmetic as the spend report) and frozen as a ``usage_invoices``
   row with its lines, unique per (consumer, period): a rerun, or a second worker, finds the
   plan made and bills exactly it, even if late usage arrived since.
2. **Bill** (one commit per provider call): invoice items, the invoice, finalisation and the
   charge, each with an idempotency key derived from (consumer, period, line): a rerun after
   a crash or a provider failure replays what the provider did instead of doing it again,
   so there is one item per line, one invoice and one charge.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.identity.models import User
from forgekit.payments import PaymentProvider
from modelhub.analytics.money import charge as price_of
from modelhub.billing import collection
from modelhub.billing.models import BillingInvoice, UsageInvoice, UsageInvoiceLine
from modelhub.billing.repository import BillingRepository, insert_for
from modelhub.billing.subscriptions import ensure_customer
from modelhub.registry.models import MarketModel
from modelhub.settings import ModelhubSettings
from modelhub.usage.models import UsageHourly
from modelhub.usage.report import free_tiers, summarise
from modelhub.usage.repository import UsageRepository
from modelhub.usage.schemas import Granularity

log = logging.getLogger("modelhub.billing")

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """``[start, end)`` of a ``YYYY-MM`` period (UTC); ValueError for anything else."""
    match = _PERIOD.match(period)
    if match is None or not 2000 <= int(match.group(1)) <= 9999:
        raise ValueError(f"period must be YYYY-MM (e.g. 2026-11), not {period!r}")
    year, month = int(match.group(1)), int(match.group(2))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def previous_period(now: datetime) -> str:
    """The month before ``now``'s, as ``YYYY-MM``."""
    year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    return f"{year:04d}-{month:02d}"


@dataclass
class PlannedLine:
    """One model's priced usage for one consumer."""

    model: MarketModel
    billable_calls: int
    compute_ms: int
    amount: int


@dataclass
class InvoicingReport:
    """What one run did: invoices planned now, billed (paid), failed, left for later."""

    period: str
    planned: int = 0
    paid: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


def _consumer_lines(
    hours: list[UsageHourly], pool: dict[uuid.UUID, MarketModel], start: datetime
) -> list[PlannedLine]:
    """One consumer's priced lines (models they do not own, amounts above zero)."""
    own = [h for h in hours if h.model_id in pool and pool[h.model_id].owner_id != h.consumer_id]
    slugs = {i: m.slug for i, m in pool.items()}
    by_slug = {m.slug: m for m in pool.values()}
    lines = []
    for row in summarise(own, slugs, free_tiers(pool), Granularity.MONTH, start):
        model = by_slug[row.model]
        amount = price_of(model.pricing or {}, row.billable_calls, row.compute_ms)
        if amount > 0:
            lines.append(PlannedLine(model, row.billable_calls, row.compute_ms, amount))
    return lines


async def _insert_plan(
    session: AsyncSession, consumer_id: uuid.UUID, period: str, currency: str,
    lines: list[PlannedLine],
) -> bool:  # fmt: skip
    invoice_id = uuid.uuid4()
    stmt = insert_for(session, UsageInvoice).values(
        id=invoice_id, consumer_id=consumer_id, period=period, currency=currency,
        total=sum(line.amount for line in lines), provider_invoice_id=None, created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=[UsageInvoice.consumer_id, UsageInvoice.period])
    if not (await session.execute(stmt.returning(UsageInvoice.id))).first():
        return False  # planned by an earlier run: bill what it froze
    for line in lines:
        calls = f"{line.billable_calls} calls" + (
            f", {line.compute_ms / 1000:.3f} s compute" if line.compute_ms else "")  # fmt: skip
        session.add(UsageInvoiceLine(
            invoice_id=invoice_id, model_id=line.model.id, publisher_id=line.model.owner_id,
            description=f"{line.model.slug} {period}: {calls}"[:255],
            billable_calls=line.billable_calls, compute_ms=line.compute_ms, amount=line.amount,
        ))  # fmt: skip
    return True


async def plan(session: AsyncSession, settings: ModelhubSettings, period: str) -> int:
    """Freeze the period's usage invoices not planned yet; returns how many are new."""
    start, end = month_bounds(period)
    hours = await UsageRepository(session).hours(None, None, start, end)
    ids = {h.model_id for h in hours}
    found = await session.execute(select(MarketModel).where(MarketModel.id.in_(ids)))
    pool = {m.id: m for m in found.scalars()}
    per_consumer: dict[uuid.UUID, list[UsageHourly]] = defaultdict(list)
    for h in hours:
        per_consumer[h.consumer_id].append(h)
    new = 0
    for consumer_id, rows in per_consumer.items():
        lines = _consumer_lines(rows, pool, start)
        if lines:
            new += await _insert_plan(session, consumer_id, period, settings.currency, lines)
    await session.commit()
    return new


async def _items(
    session: AsyncSession, provider: PaymentProvider, invoice: UsageInvoice, customer: str
) -> None:
    """One provider invoice item per line, each committed once the provider made it."""
    rows = await session.execute(select(UsageInvoiceLine).where(
        UsageInvoiceLine.invoice_id == invoice.id).order_by(UsageInvoiceLine.model_id))  # fmt: skip
    for line in rows.scalars():
        if line.provider_item_id is not None:
            continue
        item = await provider.create_invoice_item(
            customer, line.amount, invoice.currency, line.description,
            metadata={"usage_invoice": str(invoice.id), "model_id": str(line.model_id),
                      "period": invoice.period},
            idempotency_key=f"modelhub-usage-{invoice.consumer_id}-{invoice.period}-{line.model_id}",
        )  # fmt: skip
        line.provider_item_id = item.id
        await session.commit()


async def _provider_invoice(
    session: AsyncSession, provider: PaymentProvider, invoice: UsageInvoice, customer: str
) -> BillingInvoice:
    """The provider's invoice of the usage invoice (made and mirrored once), finalised."""
    key = f"modelhub-usage-{invoice.consumer_id}-{invoice.period}-invoice"
    if invoice.provider_invoice_id is None:
        made = await provider.create_invoice(customer, idempotency_key=key)
        invoice.provider_invoice_id = made.id
        await BillingRepository(session).mirror_invoice(collection.invoice_values(made), utcnow())
        await session.commit()
    provider_id = invoice.provider_invoice_id
    row = await BillingRepository(session).invoice(provider_id, lock=True)
    if row is None or row.status == "draft":
        opened = await provider.finalize_invoice(provider_id, idempotency_key=f"{key}-finalize")
        row = await BillingRepository(session).mirror_invoice(
            collection.invoice_values(opened), utcnow()
        )
        await session.commit()
    return row


async def bill(
    session: AsyncSession, provider: PaymentProvider, settings: ModelhubSettings,
    invoice: UsageInvoice,
) -> str:  # fmt: skip
    """Take one planned usage invoice as far as it goes; returns the mirror's status."""
    user = await session.get(User, invoice.consumer_id)
    email = user.email if user is not None else f"{invoice.consumer_id}@invalid"
    customer = await ensure_customer(session, provider, invoice.consumer_id, email, None)
    await session.commit()
    await _items(session, provider, invoice, customer)
    row = await _provider_invoice(session, provider, invoice, customer)
    if row.status == "open" and row.attempt_count == 0:
        await collection.charge(session, provider, settings, row, 1)
    elif row.status == "paid":
        # Paid on finalisation (nothing due) or by an earlier run: make sure it is credited.
        paid = await provider.retrieve_invoice(row.provider_id)
        await collection.mirror_paid(session, settings, paid)
    await session.commit()
    return row.status


async def run(
    session: AsyncSession, provider: PaymentProvider, settings: ModelhubSettings, period: str
) -> InvoicingReport:
    """Plan the period, then bill every planned invoice not settled yet."""
    report = InvoicingReport(period, planned=await plan(session, settings, period))
    stmt = (
        select(UsageInvoice)
        .outerjoin(BillingInvoice, BillingInvoice.provider_id == UsageInvoice.provider_invoice_id)
        .where(UsageInvoice.period == period)
        .where((BillingInvoice.id.is_(None)) | (BillingInvoice.status.in_(("draft", "open"))))
        .order_by(UsageInvoice.created_at, UsageInvoice.id)
    )
    for invoice in list((await session.execute(stmt)).scalars()):
        status = await bill(session, provider, settings, invoice)
        bucket = {"paid": report.paid, "past_due": report.failed}.get(status, report.pending)
        bucket.append(invoice.provider_invoice_id or str(invoice.id))
    log.info("invoicing %s: %d planned, %d paid, %d failed, %d pending", period,
             report.planned, len(report.paid), len(report.failed), len(report.pending))  # fmt: skip
    return report
