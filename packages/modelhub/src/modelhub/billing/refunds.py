"""Refunding a paid invoice, fully or in part (staff only).

The amount is reserved first by one conditional UPDATE (``amount_refunded + amount <=
amount_paid``), so concurrent refunds can never return more than was paid: the one that would
is a 409. The refund row, unique per (invoice, ``Idempotency-Key``), commits with the
reservation; then the provider refunds with key ``modelhub-refund-<row id>``. A retried
request (same key) replays a finished refund or completes a pending one, never refunds twice.
A succeeded refund debits the publishers their share.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.errors import Conflict, NotFound, ServiceUnavailable
from forgekit.payments import PaymentError, PaymentProvider
from forgekit.payments.errors import ProviderUnavailable
from modelhub.billing import ledger
from modelhub.billing.models import BillingInvoice, InvoiceRefund
from modelhub.billing.repository import BillingRepository
from modelhub.billing.schemas import RefundCreate, RefundRead
from modelhub.settings import ModelhubSettings


def _read(refund: InvoiceRefund, invoice: BillingInvoice) -> RefundRead:
    return RefundRead(
        id=refund.id, invoice=invoice.provider_id, amount=refund.amount,
        currency=refund.currency, status=refund.status, reason=refund.reason,
        provider_refund_id=refund.provider_refund_id, invoice_amount_paid=invoice.amount_paid,
        invoice_amount_refunded=invoice.amount_refunded, created_at=refund.created_at,
    )  # fmt: skip


async def _reserve(
    session: AsyncSession, invoice: BillingInvoice, data: RefundCreate, request_id: str,
    staff_id: uuid.UUID,
) -> InvoiceRefund:  # fmt: skip
    """Reserve the amount and store the pending refund (committed); 409 past what was paid."""
    left = invoice.amount_paid - invoice.amount_refunded
    amount = data.amount if data.amount is not None else left
    if amount <= 0 or amount > left:
        raise Conflict(f"Refund of {amount} would exceed what is left to refund ({left} "
                       f"{invoice.currency}).", refundable=left)  # fmt: skip
    reserved = await session.execute(
        update(BillingInvoice)
        .where(BillingInvoice.id == invoice.id,
               BillingInvoice.amount_refunded + amount <= BillingInvoice.amount_paid)
        .values(amount_refunded=BillingInvoice.amount_refunded + amount)
    )  # fmt: skip
    if reserved.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise Conflict("A concurrent refund took what was left to refund.")
    refund = InvoiceRefund(invoice_id=invoice.id, request_id=request_id, amount=amount,
                           currency=invoice.currency, reason=data.reason, status="pending",
                           created_by=staff_id)  # fmt: skip
    session.add(refund)
    try:
        await session.commit()
    except IntegrityError as exc:  # the same Idempotency-Key, at the same moment
        await session.rollback()
        raise Conflict("This refund request is being processed; retry it.") from exc
    return refund


async def _release(session: AsyncSession, refund: InvoiceRefund) -> None:
    """The provider refused: give the reservation back."""
    refund.status = "failed"
    await session.execute(
        update(BillingInvoice).where(BillingInvoice.id == refund.invoice_id)
        .values(amount_refunded=BillingInvoice.amount_refunded - refund.amount)
    )  # fmt: skip
    await session.commit()


async def refund_invoice(
    session: AsyncSession, provider: PaymentProvider, settings: ModelhubSettings,
    provider_id: str, data: RefundCreate, request_id: str, staff_id: uuid.UUID,
) -> tuple[RefundRead, bool]:  # fmt: skip
    """Refund (part of) a paid invoice; False with the refund already made for a retried
    request id."""
    invoice = await BillingRepository(session).invoice(provider_id)
    if invoice is None:
        raise NotFound("Invoice not found.")
    stmt = select(InvoiceRefund).where(InvoiceRefund.invoice_id == invoice.id,
                                       InvoiceRefund.request_id == request_id)  # fmt: skip
    refund = (await session.execute(stmt)).scalar_one_or_none()
    created = refund is None
    if refund is None:
        if invoice.status != "paid" or not invoice.payment_intent:
            raise Conflict(f"Only a paid invoice can be refunded; this one is {invoice.status}.")
        refund = await _reserve(session, invoice, data, request_id, staff_id)
    if refund.status == "pending":
        await _execute(session, provider, settings, invoice, refund)
    await session.refresh(invoice)
    return _read(refund, invoice), created


async def _execute(
    session: AsyncSession, provider: PaymentProvider, settings: ModelhubSettings,
    invoice: BillingInvoice, refund: InvoiceRefund,
) -> None:  # fmt: skip
    assert invoice.payment_intent is not None  # checked before the reservation
    try:
        done = await provider.create_refund(invoice.payment_intent, refund.amount,
                                            idempotency_key=f"modelhub-refund-{refund.id}")
    except ProviderUnavailable as exc:
        # Outcome unknown: the reservation stays; the same request completes it later.
        raise ServiceUnavailable(f"The payment provider failed ({exc}); retry the request "
                                 "with the same Idempotency-Key.") from exc
    except PaymentError as exc:
        await _release(session, refund)
        raise Conflict(f"The provider refused the refund: {exc}") from exc
    refund.status, refund.provider_refund_id = "succeeded", done.id
    await ledger.debit_refund(session, settings.publisher_share_bps, invoice.provider_id,
                              refund.id, refund.amount, invoice.amount_paid)  # fmt: skip
    await session.commit()
