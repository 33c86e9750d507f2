"""Payments over HTTP: customers pay their orders, staff refund, the provider posts webhooks."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from forgekit.deps import SessionDep
from forgekit.errors import BadRequest
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from forgekit.payments import InvalidSignature, verify_event
from forgekit.payments.webhooks import SIGNATURE_HEADER
from shop.orders.service import visible_order
from shop.payments.schemas import PaymentCreate, PaymentRead, RefundCreate, RefundRead
from shop.permissions import Permission
from shop.runtime import ShopRuntimeDep

router = APIRouter(prefix="/api/v1", tags=["payments"])

Customer = Annotated[Principal, Depends(require_scopes(Permission.SHOP))]
Refunder = Annotated[Principal, Depends(require_scopes(Permission.REFUND))]


@router.post("/orders/{order_id}/payment", status_code=status.HTTP_201_CREATED)
async def pay(
    order_id: uuid.UUID,
    data: PaymentCreate,
    principal: Customer,
    runtime: ShopRuntimeDep,
    session: SessionDep,
) -> PaymentRead:
    """Authorise the order's total on a card; confirm with ``/payment/capture``."""
    order = await visible_order(session, principal, order_id)
    await session.close()
    return PaymentRead.model_validate(
        await runtime.payments.authorize(order.id, data.payment_method)
    )


@router.post("/orders/{order_id}/payment/capture")
async def capture(
    order_id: uuid.UUID, principal: Customer, runtime: ShopRuntimeDep, session: SessionDep
) -> PaymentRead:
    """Capture the authorised payment (once, whoever asks first) and confirm the order."""
    order = await visible_order(session, principal, order_id)
    await session.close()
    return PaymentRead.model_validate(await runtime.payments.capture(order.id, principal.user_id))


@router.post("/orders/{order_id}/refunds", status_code=status.HTTP_201_CREATED)
async def refund(
    order_id: uuid.UUID,
    data: RefundCreate,
    principal: Refunder,
    runtime: ShopRuntimeDep,
    session: SessionDep,
) -> RefundRead:
    """Refund a captured payment, fully or partly (staff)."""
    # The payment service runs its own transactions around the provider's calls.
    await session.close()
    done = await runtime.payments.refund(order_id, data.amount, principal.user_id, data.reason)
    return RefundRead.model_validate(done)


@router.post("/payments/webhook")
async def webhook(request: Request, runtime: ShopRuntimeDep) -> dict[str, str]:
    """The provider's events, verified (``Stripe-Signature``), handled once per event id, in
    any order (public: the signature is the credential)."""
    secret = runtime.app_settings.payments_webhook_secret.get_secret_value()
    try:
        event = verify_event(await request.body(), request.headers.get(SIGNATURE_HEADER, ""),
                             secret)  # fmt: skip
    except InvalidSignature as exc:
        raise BadRequest(f"Webhook rejected: {exc}.") from None
    return {"event": event.id, "result": await runtime.payments.handle_event(event)}
