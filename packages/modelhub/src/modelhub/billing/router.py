"""HTTP endpoints of billing: the provider's webhooks and consumers' plan subscriptions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from forgekit.deps import SessionDep
from forgekit.errors import Forbidden, NotFound
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from forgekit.payments.webhooks import SIGNATURE_HEADER
from modelhub.billing import ledger, payouts, refunds
from modelhub.billing.schemas import (
    Balance,
    LedgerRead,
    LedgerRow,
    PayoutAccountRead,
    PayoutAccountSet,
    PayoutRead,
    RefundCreate,
    RefundRead,
    SubscriptionChange,
    SubscriptionRead,
)
from modelhub.billing.service import handle_webhook
from modelhub.billing.subscriptions import provider_for, subscriptions
from modelhub.permissions import Permission
from modelhub.runtime import ModelhubRuntimeDep

router = APIRouter(tags=["billing"])


@router.post("/api/v1/payments/webhooks")
async def provider_webhook(
    request: Request,
    session: SessionDep,
    runtime: ModelhubRuntimeDep,
    signature: str = Header("", alias=SIGNATURE_HEADER),
) -> dict[str, Any]:
    """Receive a provider event: authenticated by its ``t=,v1=`` signature (no login),
    applied once per event id (a redelivery answers ``duplicate: true``), in any order."""
    payload = await request.body()
    return await handle_webhook(session, runtime.app_settings, payload, signature)


#: Subscribing is paying for inference: a key needs ``model:infer`` (a login has it by role).
Subscriber = Annotated[Principal, Depends(require_scopes(Permission.MODEL_INFER))]


@router.get("/api/v1/billing/subscription")
async def get_subscription(
    principal: Subscriber, session: SessionDep, runtime: ModelhubRuntimeDep
) -> SubscriptionRead:
    """The caller's plan subscription (404 when there is none)."""
    return await subscriptions.get(session, runtime.app_settings, principal.user_id)


@router.put("/api/v1/billing/subscription")
async def change_subscription(
    data: SubscriptionChange, principal: Subscriber, session: SessionDep,
    runtime: ModelhubRuntimeDep,
) -> SubscriptionRead:  # fmt: skip
    """Subscribe to a plan, or upgrade/downgrade to another (the provider prorates the
    difference onto the next invoice). Repeating the same request changes nothing."""
    return await subscriptions.change(
        session, runtime.app_settings, principal.user_id, principal.user.email, data
    )


@router.delete("/api/v1/billing/subscription")
async def cancel_subscription(
    principal: Subscriber, session: SessionDep, runtime: ModelhubRuntimeDep
) -> SubscriptionRead:
    """Cancel at the end of the paid period; the plan stays until then."""
    return await subscriptions.cancel(session, runtime.app_settings, principal.user_id)


#: Staff (an admin, or a key carrying ``billing:manage``).
Staff = Annotated[Principal, Depends(require_scopes(Permission.BILLING_MANAGE))]
#: Publishers read their own ledger and payouts with ``model:read`` (any login has it).
Reader = Annotated[Principal, Depends(require_scopes(Permission.MODEL_READ))]

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"),
]


@router.post(
    "/api/v1/billing/invoices/{invoice_id}/refunds", status_code=201,
    response_model=RefundRead, responses={201: {"model": RefundRead}},
)  # fmt: skip
async def refund_invoice(
    invoice_id: str, data: RefundCreate, principal: Staff, session: SessionDep,
    runtime: ModelhubRuntimeDep, idempotency_key: IdempotencyKey = None,
) -> JSONResponse:  # fmt: skip
    """Refund a paid invoice fully (no ``amount``) or in part; never more than was paid
    (409 problem). Retry with the same ``Idempotency-Key``: one refund, replayed."""
    request_id = idempotency_key or uuid.uuid4().hex
    async with provider_for(runtime.app_settings) as provider:
        made, created = await refunds.refund_invoice(
            session, provider, runtime.app_settings, invoice_id[:255], data, request_id,
            principal.user_id,
        )  # fmt: skip
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return JSONResponse(made.model_dump(mode="json"), status_code=201, headers=headers)


def _whose(principal: Principal, publisher: uuid.UUID | None) -> uuid.UUID | None:
    """Whose rows to read: staff, the publisher asked for (None: everyone); others, their
    own only (403 for someone else's)."""
    if principal.has(Permission.BILLING_MANAGE):
        return publisher
    if publisher is not None and publisher != principal.user_id:
        raise Forbidden("Only staff read another publisher's ledger.",
                        missing_scopes=[Permission.BILLING_MANAGE.value])  # fmt: skip
    return principal.user_id


@router.get("/api/v1/billing/ledger")
async def get_ledger(
    principal: Reader, session: SessionDep, publisher: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> LedgerRead:  # fmt: skip
    """The caller's balance per currency and latest ledger rows (credits positive, debits
    negative, minor units). Staff: ``?publisher=`` for another's, none for all balances."""
    whom = _whose(principal, publisher)
    rows = await ledger.balances(session, whom)
    entries = await ledger.entries(session, whom, limit) if whom is not None else []
    return LedgerRead(
        balances=[Balance(publisher_id=p, currency=c, balance=b) for p, c, b in rows],
        entries=[LedgerRow.model_validate(e) for e in entries],
    )


@router.get("/api/v1/billing/payouts")
async def list_payouts(
    principal: Reader, session: SessionDep, publisher: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[PayoutRead]:  # fmt: skip
    """The caller's payouts, newest first (staff: ``?publisher=``, or everyone's)."""
    rows = await ledger.payouts(session, _whose(principal, publisher), limit)
    return [PayoutRead.model_validate(p) for p in rows]


#: Publishing models is what earns a payout: setting the account needs ``model:publish``.
Publisher = Annotated[Principal, Depends(require_scopes(Permission.MODEL_PUBLISH))]


@router.get("/api/v1/billing/payout-account")
async def get_payout_account(principal: Publisher, session: SessionDep) -> PayoutAccountRead:
    """The caller's payout account (404 when none is set)."""
    account = await payouts.account_of(session, principal.user_id)
    if account is None:
        raise NotFound("No payout account.")
    return PayoutAccountRead.model_validate(account)


@router.put("/api/v1/billing/payout-account")
async def set_payout_account(
    data: PayoutAccountSet, principal: Publisher, session: SessionDep,
    runtime: ModelhubRuntimeDep,
) -> PayoutAccountRead:  # fmt: skip
    """Set where the caller's payouts are transferred: ``account_id`` of a connected account
    at the payment provider (checked there: 422 when unknown), or none to have one created
    (once: a repeat answers the same account). Payouts not yet sent go there next run."""
    async with provider_for(runtime.app_settings) as provider:
        account = await payouts.set_account(
            session, provider, principal.user_id, principal.user.email, data.account_id
        )
    return PayoutAccountRead.model_validate(account)
