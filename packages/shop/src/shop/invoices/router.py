"""Invoices over HTTP: the PDF of an order's invoice, for its customer and for staff."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from forgekit.deps import SessionDep
from forgekit.errors import NotFound
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from shop.invoices.service import of_order
from shop.orders.service import visible_order
from shop.permissions import Permission
from shop.runtime import ShopRuntimeDep

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])

Customer = Annotated[Principal, Depends(require_scopes(Permission.SHOP))]


@router.get(
    "/{order_id}/invoice.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The invoice."}},
)
async def invoice_pdf(
    order_id: uuid.UUID, principal: Customer, runtime: ShopRuntimeDep, session: SessionDep
) -> Response:
    """The order's invoice as PDF (the caller's own order; staff: any). 404 until the order
    is paid and its invoice issued."""
    order = await visible_order(session, principal, order_id)
    invoice = await of_order(session, order.id)
    if invoice is None:
        raise NotFound("This order has no invoice yet: one is issued once it is paid.")
    pdf = await runtime.storage.read(invoice.storage_key)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="invoice-{invoice.number}.pdf"'},
    )
