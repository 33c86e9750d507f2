"""The publisher ledger: append-only rows in integer minor units, one per business fact.

A publisher is credited their revenue share (``publisher_share_bps``) when a consumer pays
for their model (a usage invoice line, a purchase), debited on a refund (the same share of
what was refunded) and on a payout. Each row's ``reference`` is unique, so recording a fact
again (a webhook redelivered, a job rerun) is a no-op; a balance is the sum of the rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from modelhub.analytics.money import share
from modelhub.billing.models import LedgerEntry, Payout, UsageInvoice, UsageInvoiceLine
from modelhub.billing.repository import insert_for


@dataclass(frozen=True)
class Posting:
    """One ledger row to append."""

    publisher_id: uuid.UUID
    currency: str
    amount: int
    kind: str
    reference: str
    memo: str = ""


async def post(session: AsyncSession, p: Posting) -> bool:
    """Append ``p`` unless its reference is recorded already; True when appended."""
    stmt = insert_for(session, LedgerEntry).values(
        id=uuid.uuid4(), publisher_id=p.publisher_id, currency=p.currency, amount=p.amount,
        kind=p.kind, reference=p.reference, memo=p.memo[:255], created_at=utcnow(),
    )  # fmt: skip
    stmt = stmt.on_conflict_do_nothing(index_elements=[LedgerEntry.reference])
    return bool((await session.execute(stmt.returning(LedgerEntry.id))).first())


async def _usage_lines(
    session: AsyncSession, provider_invoice_id: str
) -> tuple[UsageInvoice | None, list[UsageInvoiceLine]]:
    stmt = select(UsageInvoice).where(UsageInvoice.provider_invoice_id == provider_invoice_id)
    invoice = (await session.execute(stmt)).scalar_one_or_none()
    if invoice is None:
        return None, []
    rows = await session.execute(
        select(UsageInvoiceLine).where(UsageInvoiceLine.invoice_id == invoice.id)
    )
    return invoice, list(rows.scalars())


async def credit_paid_invoice(session: AsyncSession, bps: int, provider_invoice_id: str) -> int:
    """Credit each line of a paid usage invoice to its model's publisher; returns how many
    rows were new (0 for a repeat, or for an invoice that is not a usage invoice)."""
    invoice, lines = await _usage_lines(session, provider_invoice_id)
    if invoice is None:
        return 0
    new = 0
    for line in lines:
        new += await post(session, Posting(
            line.publisher_id, invoice.currency, share(line.amount, bps), "credit",
            f"usage-line-{line.id}", f"{invoice.period} {line.description}"))  # fmt: skip
    return new


async def debit_refund(
    session: AsyncSession, bps: int, provider_invoice_id: str, refund_id: uuid.UUID,
    amount: int, invoice_total: int,
) -> int:  # fmt: skip
    """Debit each publisher their share of a refund, spread over the lines in proportion to
    their amounts (rounded down: a debit never exceeds the credit it reverses)."""
    invoice, lines = await _usage_lines(session, provider_invoice_id)
    if invoice is None or invoice_total <= 0:
        return 0
    new = 0
    for line in lines:
        portion = line.amount * min(amount, invoice_total) // invoice_total
        debit = share(portion, bps)
        if debit:
            new += await post(session, Posting(
                line.publisher_id, invoice.currency, -debit, "refund",
                f"refund-{refund_id}-{line.id}", f"refund of {invoice.period} {line.description}"
            ))  # fmt: skip
    return new


async def credit_purchase(
    session: AsyncSession, bps: int, purchase_id: uuid.UUID, publisher_id: uuid.UUID,
    amount: int, currency: str, slug: str,
) -> bool:  # fmt: skip
    """Credit the publisher their share of a completed purchase (once per purchase)."""
    return await post(session, Posting(publisher_id, currency, share(amount, bps), "credit",
                                       f"purchase-{purchase_id}", f"purchase of {slug}"))


async def balances(
    session: AsyncSession, publisher_id: uuid.UUID | None = None
) -> list[tuple[uuid.UUID, str, int]]:
    """``(publisher, currency, balance)`` of one publisher or of all, largest first."""
    total = func.sum(LedgerEntry.amount)
    stmt = select(LedgerEntry.publisher_id, LedgerEntry.currency, total).group_by(
        LedgerEntry.publisher_id, LedgerEntry.currency
    )
    if publisher_id is not None:
        stmt = stmt.where(LedgerEntry.publisher_id == publisher_id)
    rows = (await session.execute(stmt.order_by(total.desc()))).all()
    return [(p, c, int(b)) for p, c, b in rows]


async def entries(session: AsyncSession, publisher_id: uuid.UUID, limit: int) -> list[LedgerEntry]:
    """The publisher's latest ledger rows."""
    stmt = (
        select(LedgerEntry)
        .where(LedgerEntry.publisher_id == publisher_id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def _attempts(session: AsyncSession, period: str) -> dict[tuple[uuid.UUID, str], int]:
    """Payout attempts recorded for ``period`` per (publisher, currency)."""
    stmt = (
        select(Payout.publisher_id, Payout.currency, func.count())
        .where(Payout.period == period)
        .group_by(Payout.publisher_id, Payout.currency)
    )
    return {(p, c): int(n) for p, c, n in (await session.execute(stmt)).all()}


async def run_payouts(session: AsyncSession, period: str, threshold: int) -> list[Payout]:
    """Pay out every balance of at least ``threshold`` for ``period``: a ``pending`` payout
    row (unique per publisher, period, currency and attempt: ON CONFLICT DO NOTHING) and its
    debit, in the caller's transaction. A rerun finds the balance debited and pays nothing
    again; a balance restored by a failed transfer's credit-back becomes the next attempt.

    The attempts are counted *before* the balances are read: a concurrent run that commits
    in between is then seen either in neither (same attempt number: its insert wins, ours
    conflicts) or in the balance (already debited), never as a fresh attempt on a stale
    balance.
    """
    attempts = await _attempts(session, period)
    made: list[Payout] = []
    for publisher_id, currency, balance in await balances(session):
        if balance < max(threshold, 1):
            continue
        payout_id = uuid.uuid4()
        attempt = attempts.get((publisher_id, currency), 0) + 1
        stmt = insert_for(session, Payout).values(
            id=payout_id, publisher_id=publisher_id, period=period, currency=currency,
            amount=balance, status="pending", attempt=attempt, created_at=utcnow(),
        )  # fmt: skip
        stmt = stmt.on_conflict_do_nothing(
            index_elements=[Payout.publisher_id, Payout.period, Payout.currency, Payout.attempt]
        )
        if not (await session.execute(stmt.returning(Payout.id))).first():
            continue  # another worker recorded this attempt at the same moment
        await post(session, Posting(publisher_id, currency, -balance, "payout",
                                    f"payout-{payout_id}", f"payout {period}"))  # fmt: skip
        payout = await session.get(Payout, payout_id)
        assert payout is not None  # inserted just above, in this transaction
        made.append(payout)
    return made


async def payouts(
    session: AsyncSession, publisher_id: uuid.UUID | None, limit: int
) -> list[Payout]:
    """Payouts of one publisher (or of all), newest first."""
    stmt = select(Payout).order_by(Payout.created_at.desc(), Payout.id).limit(limit)
    if publisher_id is not None:
        stmt = stmt.where(Payout.publisher_id == publisher_id)
    return list((await session.execute(stmt)).scalars())
