"""Publisher payouts moved as transfers to their connected accounts.

:func:`~modelhub.billing.ledger.run_payouts` records each payout ``pending`` with its ledger
debit; :func:`send_pending` then transfers every pending payout whose publisher has a payout
account, with the idempotency key ``modelhub-payout-<payout id>``. Each answer is committed as
it comes: ``paid`` with the transfer id, or ``failed`` with a credit-back
(``payout-<id>-failed``) that the next payout run pays as a new attempt. A run killed between
the transfer and its commit leaves the payout pending; the next run sends the very same
request under the same key, the provider replays its first answer, and nothing is paid twice.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import ServiceUnavailable, Unprocessable
from forgekit.payments import (
    InvalidRequest,
    PaymentError,
    PaymentProvider,
    TransferFailed,
)
from modelhub.billing import ledger
from modelhub.billing.models import Payout, PayoutAccount
from modelhub.billing.repository import insert_for

log = logging.getLogger("modelhub.billing.payouts")


def transfer_key(payout_id: uuid.UUID) -> str:
    """The transfer's idempotency key: one transfer per payout, however often it is sent."""
    return f"modelhub-payout-{payout_id}"


@dataclass
class SendReport:
    """What one :func:`send_pending` pass did (payout ids)."""

    paid: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    pending: list[uuid.UUID] = field(default_factory=list)


async def account_of(session: AsyncSession, publisher_id: uuid.UUID) -> PayoutAccount | None:
    """The publisher's payout account, if they set one."""
    stmt = select(PayoutAccount).where(PayoutAccount.publisher_id == publisher_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _destined(session: AsyncSession) -> list[Payout]:
    """Pending payouts, each given its destination (fixed once, committed before any call,
    so every send of a payout is the same request) where the publisher has an account."""
    rows = await session.execute(
        select(Payout, PayoutAccount.account_id)
        .join(PayoutAccount, PayoutAccount.publisher_id == Payout.publisher_id, isouter=True)
        .where(Payout.status == "pending")
        .order_by(Payout.created_at, Payout.id)
    )
    ready: list[Payout] = []
    for payout, account in rows.all():
        if payout.destination is None and account is not None:
            await session.execute(
                update(Payout)
                .where(Payout.id == payout.id, Payout.destination.is_(None))
                .values(destination=account)
            )
            await session.refresh(payout)
        if payout.destination is not None:
            ready.append(payout)
    await session.commit()
    return ready


async def _settle(session: AsyncSession, payout: Payout, **values: object) -> bool:
    """Move ``payout`` from ``pending`` (a concurrent sender may have settled it already)."""
    result = await session.execute(
        update(Payout)
        .where(Payout.id == payout.id, Payout.status == "pending")
        .values(settled_at=utcnow(), **values)
        .returning(Payout.id)
    )
    return result.first() is not None


async def _send_one(session: AsyncSession, provider: PaymentProvider, payout: Payout) -> str:
    """Transfer one payout and commit its outcome: ``paid``, ``failed`` or ``pending``."""
    assert payout.destination is not None  # _destined returns only those
    try:
        transfer = await provider.create_transfer(
            payout.amount, payout.currency, payout.destination, f"payout-{payout.period}",
            {"payout": str(payout.id)}, idempotency_key=transfer_key(payout.id),
        )  # fmt: skip
    except TransferFailed as exc:
        reason = f"{exc.code or 'refused'}: {exc.message}"[:255]
        if await _settle(session, payout, status="failed", failure=reason,
                         transfer_id=exc.transfer_id):  # fmt: skip
            memo = f"payout {payout.period} failed: {reason}"
            await ledger.post(session, ledger.Posting(
                payout.publisher_id, payout.currency, payout.amount, "payout_failed",
                f"payout-{payout.id}-failed", memo))  # fmt: skip
        await session.commit()
        return "failed"
    except PaymentError as exc:
        # Outcome unknown, or a request the provider would not take: the payout stays
        # pending (still debited) and the next run sends it again under the same key.
        log.warning("payout %s not sent: %s", payout.id, exc)
        return "pending"
    await _settle(session, payout, status="paid", transfer_id=transfer.id)
    await session.commit()
    return "paid"


async def send_pending(session: AsyncSession, provider: PaymentProvider) -> SendReport:
    """Transfer every pending payout that has a destination; commits as it goes."""
    report = SendReport()
    for payout in await _destined(session):
        outcome = await _send_one(session, provider, payout)
        getattr(report, outcome).append(payout.id)
    return report


async def set_account(
    session: AsyncSession, provider: PaymentProvider, publisher_id: uuid.UUID, email: str,
    account_id: str | None,
) -> PayoutAccount:  # fmt: skip
    """Make ``account_id`` (checked at the provider: 422 when it does not exist there), or a
    new connected account when none is given, the publisher's payout account."""
    try:
        if account_id is None:
            made = await provider.create_account(
                email, metadata={"publisher": str(publisher_id)},
                idempotency_key=f"modelhub-payout-account-{publisher_id}",
            )  # fmt: skip
            account_id = made.id
        else:
            account_id = (await provider.retrieve_account(account_id)).id
    except InvalidRequest as exc:
        raise Unprocessable(f"The payment provider has no such account: {exc.message}") from exc
    except PaymentError as exc:
        raise ServiceUnavailable(f"The payment provider failed: {exc}") from exc
    now = utcnow()
    stmt = insert_for(session, PayoutAccount).values(
        id=uuid.uuid4(), publisher_id=publisher_id, account_id=account_id, updated_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[PayoutAccount.publisher_id],
        set_={"account_id": account_id, "updated_at": now},
    )
    await session.execute(stmt)
    await session.commit()
    row = await account_of(session, publisher_id)
    assert row is not None  # upserted just above
    return row
