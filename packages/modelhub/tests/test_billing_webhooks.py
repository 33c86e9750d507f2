"""Provider webhooks over HTTP from the fake provider (a subprocess) to the served app:
verified, deduplicated by event id, and safe in any order (held, reversed and duplicated
deliveries still leave the invoice mirror ``paid``); bad signatures are problems."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
from fastapi import FastAPI
from modelhub.billing.models import BillingInvoice, PaymentEvent
from sqlalchemy import func, select

from forgekit.payments import StripeAdapter
from forgekit.payments.webhooks import SIGNATURE_HEADER
from forgekit.runtime import Runtime
from forgekit.testing.loopback import serve_asgi
from forgekit.testing.payments import fake_provider
from forgekit.webhooks.signing import signature_header

WEBHOOKS = "/api/v1/payments/webhooks"


def key() -> str:
    return uuid.uuid4().hex


async def open_paid_invoice(stripe: StripeAdapter) -> str:
    """A customer with a card, one usage line, its invoice finalised and paid."""
    customer = await stripe.create_customer("buyer@example.com", idempotency_key=key())
    await stripe.attach_payment_method(customer.id, "pm_card_visa", idempotency_key=key())
    await stripe.create_invoice_item(customer.id, 1234, "usd", "usage", idempotency_key=key())
    invoice = await stripe.create_invoice(customer.id, idempotency_key=key())
    await stripe.finalize_invoice(invoice.id, idempotency_key=key())
    paid = await stripe.pay_invoice(invoice.id, idempotency_key=key())
    assert paid.status == "paid"
    return invoice.id


async def counts(runtime: Runtime, invoice_id: str) -> tuple[str | None, int, int]:
    """The mirror's status and amount paid, and how many events were recorded."""
    async with runtime.db.session() as s:
        row = (
            await s.execute(select(BillingInvoice).where(BillingInvoice.provider_id == invoice_id))
        ).scalar_one_or_none()
        events = (await s.execute(select(func.count()).select_from(PaymentEvent))).scalar_one()
    return (row.status if row else None), (row.amount_paid if row else 0), events


async def test_out_of_order_duplicated_webhooks_leave_the_invoice_paid_once(
    app: FastAPI, runtime: Runtime
) -> None:
    with fake_provider() as fake:
        runtime.app_settings.payments_webhook_secret = fake.webhook_secret  # type: ignore[attr-defined]
        async with serve_asgi(app) as base, fake.adapter() as stripe:
            await fake.control.register_webhook(base + WEBHOOKS)
            # Newest first and each twice: invoice.paid arrives before invoice.created.
            await fake.control.webhooks(hold=True, reverse=True, duplicate=True)
            invoice_id = await open_paid_invoice(stripe)
            sent = await fake.control.flush_webhooks()
            assert sent >= 4
            deadline = time.monotonic() + 60
            while True:
                delivered = [d for d in await fake.control.deliveries() if d["status"] == 200]
                if len(delivered) >= 2 * sent:
                    break
                assert time.monotonic() < deadline, f"{len(delivered)} of {2 * sent} delivered"
                await asyncio.sleep(0.1)
    # Both copies of every event were acknowledged; each was recorded (and applied) once.
    assert await counts(runtime, invoice_id) == ("paid", 1234, sent)


async def test_bad_signatures_are_problems_and_record_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    body = json.dumps({"id": "evt_1", "type": "invoice.paid", "created": 1,
                       "data": {"object": {"object": "invoice", "id": "in_1"}}}).encode()  # fmt: skip
    unconfigured = await client.post(WEBHOOKS, content=body,
                                     headers={SIGNATURE_HEADER: signature_header("s", body)})  # fmt: skip
    assert unconfigured.status_code == 400  # no secret: nothing verifies
    runtime.app_settings.payments_webhook_secret = "whsec_test"  # type: ignore[attr-defined]
    stale = signature_header("whsec_test", body, int(time.time()) - 301)
    for header in ("", "t=1,v1=00", signature_header("other", body), stale):
        resp = await client.post(WEBHOOKS, content=body, headers={SIGNATURE_HEADER: header})
        assert resp.status_code == 400, (header, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
    not_an_event = b'{"hello": 1}'
    resp = await client.post(WEBHOOKS, content=not_an_event,
                             headers={SIGNATURE_HEADER: signature_header("whsec_test", not_an_event)})  # fmt: skip
    assert resp.status_code == 400
    # A good one is applied once; its redelivery is acknowledged as a duplicate.
    good = {SIGNATURE_HEADER: signature_header("whsec_test", body)}
    first = await client.post(WEBHOOKS, content=body, headers=good)
    again = await client.post(WEBHOOKS, content=body, headers=good)
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    async with runtime.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(PaymentEvent))).scalar_one() == 1
        # The invoice object lacked fields: recorded, not mirrored.
        assert (await s.execute(select(func.count()).select_from(BillingInvoice))).scalar_one() == 0
