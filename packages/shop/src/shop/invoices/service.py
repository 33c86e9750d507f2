"""Issuing invoices: a number from the year's counter, the PDF, its object, its row.

All of it happens in the transaction of the outbox consumer that handles the order's
confirmation. The year's counter row is incremented by one conditional update there: its row
lock holds a concurrent issuer until this transaction ends, and a rollback gives the number
back, so the numbers of a year run 1, 2, 3... without gaps or duplicates.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.storage import ObjectStorage
from shop.invoices.models import Invoice, InvoiceSequence
from shop.invoices.render import InvoiceData, render
from shop.orders import repository as orders
from shop.orders.models import Order
from shop.settings import ShopSettings

#: The address fields of an order, in the order they are printed.
_ADDRESS = ("name", "line1", "line2", "postcode", "city", "country")


async def next_number(session: AsyncSession, year: int) -> int:
    """The next number of ``year`` (flushed, not committed)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(InvoiceSequence).values(year=year, last=0).on_conflict_do_nothing()
    )
    result = await session.execute(
        update(InvoiceSequence)
        .where(InvoiceSequence.year == year)
        .values(last=InvoiceSequence.last + 1)
        .returning(InvoiceSequence.last)
    )
    return int(result.scalar_one())


def invoice_number(year: int, sequence: int) -> str:
    """``2026-000042``."""
    return f"{year}-{sequence:06d}"


async def of_order(session: AsyncSession, order_id: uuid.UUID) -> Invoice | None:
    """The order's invoice, when issued."""
    return await session.scalar(select(Invoice).where(Invoice.order_id == order_id))


async def issue(
    session: AsyncSession, storage: ObjectStorage, settings: ShopSettings, order: Order
) -> Invoice:
    """The order's invoice, issued now unless it exists (flushed in the caller's
    transaction)."""
    existing = await of_order(session, order.id)
    if existing is not None:
        return existing
    now = utcnow()
    sequence = await next_number(session, now.year)
    number = invoice_number(now.year, sequence)
    data = InvoiceData(
        number=number,
        issued=now.date(),
        order_ref=str(order.id)[:8].upper(),
        issuer=[part.strip() for part in settings.invoice_issuer.split("\n") if part.strip()],
        bill_to=[*_address(order.shipping_address), order.email],
        currency=order.currency,
        lines=[
            (line.sku, line.name, line.quantity, line.unit_price, line.quantity * line.unit_price)
            for line in await orders.lines(session, order.id)
        ],
        subtotal=order.subtotal,
        discount=order.discount,
        shipping=order.shipping,
        tax=order.tax,
        total=order.total,
        notes=[f"Order {order.id}"],
    )
    font = Path(settings.invoice_font) if settings.invoice_font else None
    pdf = await asyncio.to_thread(render, data, font)  # CPU work off the event loop
    stored = await storage.put_bytes(pdf, content_type="application/pdf")
    invoice = Invoice(
        order_id=order.id,
        number=number,
        year=now.year,
        sequence=sequence,
        storage_key=stored.key,
        total=order.total,
        currency=order.currency,
        issued_at=now,
    )
    session.add(invoice)
    await session.flush()
    return invoice


def _address(address: dict[str, object]) -> list[str]:
    return [str(address[key]) for key in _ADDRESS if address.get(key)]
