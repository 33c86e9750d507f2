"""The monthly invoicing job, dunning, refunds, the publisher ledger and payouts, over HTTP
against the fake provider (a subprocess), on both backends.

Usage is written as hourly aggregates of a past month (what metering leaves behind); the
job prices it after the free tier, invoices and charges it with keys derived from
(consumer, period, line): reruns, and a run whose answer the provider loses mid-way, leave
exactly one invoice, its items and one charge.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from modelhub.billing import collection, invoicing, ledger
from modelhub.billing.models import BillingCustomer, BillingInvoice, LedgerEntry, UsageInvoice
from modelhub.billing.subscriptions import ensure_customer
from modelhub.usage.models import UsageHourly
from sqlalchemy import func, select
from typer.testing import CliRunner

from forgekit.events.models import ProcessedEvent
from forgekit.identity.testing import TestUser, create_api_key, register_and_login, set_user
from forgekit.payments import StripeAdapter
from forgekit.runtime import Runtime
from forgekit.testing.loopback import serve_asgi
from forgekit.testing.payments import FakeProvider, fake_provider

PERIOD = "2025-11"
HOUR = datetime(2025, 11, 14, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with fake_provider() as fake:
        yield fake


def configure(runtime: Runtime, fake: FakeProvider, **extra: Any) -> Any:
    settings: Any = runtime.app_settings
    settings.payments_base_url, settings.payments_api_key = fake.base_url, fake.api_key
    settings.payments_webhook_secret = fake.webhook_secret
    for name, value in extra.items():
        setattr(settings, name, value)
    return settings


async def model(client: httpx.AsyncClient, pub: TestUser, name: str, pricing: dict[str, Any]) -> uuid.UUID:
    body = {"name": name, "title": name, "task": "regression", "framework": "onnx",
            "license": "mit", "visibility": "public", "pricing": pricing}  # fmt: skip
    resp = await client.post("/api/v1/models", json=body, headers=pub.headers)
    assert resp.status_code == 201, resp.text
    return uuid.UUID(resp.json()["id"])


async def setup_usage(
    client: httpx.AsyncClient, runtime: Runtime, fake: FakeProvider, card: str
) -> tuple[TestUser, TestUser, str]:
    """A publisher with two priced models, a consumer with ``card`` and usage in PERIOD:
    2,100 calls of a model at 2.50 per 1k with 100 free (500 minor units) and 50 calls at
    10.00 per 1k (50): 550 in all. Returns publisher, consumer, provider customer id."""
    pub = await register_and_login(client)
    await set_user(runtime, pub, role="publisher", is_verified=True)
    consumer = await register_and_login(client)
    first = await model(client, pub, "alpha", {"free_calls_per_month": 100,
                                               "price_per_1k_calls": "2.50"})  # fmt: skip
    second = await model(client, pub, "beta", {"price_per_1k_calls": "10"})
    async with runtime.db.transaction() as s:
        for model_id, calls in ((first, 2000), (first, 100), (second, 50)):
            hour = HOUR if calls != 100 else HOUR.replace(day=2)
            s.add(UsageHourly(consumer_id=consumer.id, model_id=model_id, hour=hour,
                              calls=calls, items=calls, compute_ms=0))  # fmt: skip
        # The publisher's own calls are never billed.
        s.add(UsageHourly(consumer_id=pub.id, model_id=second, hour=HOUR, calls=999,
                          items=999, compute_ms=0))  # fmt: skip
    async with fake.adapter() as stripe, runtime.db.transaction() as s:
        customer = await ensure_customer(s, stripe, consumer.id, "c@example.com", card)
    return pub, consumer, customer


async def fake_events(fake: FakeProvider, customer: str, kind: str) -> list[dict[str, Any]]:
    return [e["data"]["object"] for e in await fake.control.events()
            if e["type"] == kind and e["data"]["object"].get("customer") == customer]  # fmt: skip


class LosesInvoiceAnswer(StripeAdapter):
    """Arms a fault before creating the invoice: the provider makes it, the answer is lost
    (a crash between the provider's work and our commit)."""

    async def create_invoice(self, customer_id: str, auto_advance: bool = False, *,
                             idempotency_key: str) -> Any:  # fmt: skip
        await self.control.fail_next("timeout", 1, hang_s=15)  # type: ignore[attr-defined]
        return await super().create_invoice(customer_id, auto_advance,
                                            idempotency_key=idempotency_key)  # fmt: skip


async def test_invoicing_survives_a_lost_answer_and_reruns_without_duplicates(
    client: httpx.AsyncClient, runtime: Runtime, provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    settings = configure(runtime, provider)
    pub, consumer, customer = await setup_usage(client, runtime, provider, "pm_card_visa")
    # 5 s: the calls before the invoice's must not time out on a busy machine; the invoice's
    # answer is held 15 s, so its timeout fires however late.
    lossy = LosesInvoiceAnswer(provider.base_url, provider.api_key, 5.0)
    lossy.control = provider.control  # type: ignore[attr-defined]
    async with lossy, runtime.db.session() as s:
        with pytest.raises(Exception, match="(?i)time"):
            await invoicing.run(s, lossy, settings, PERIOD)
    async with provider.adapter() as stripe:
        for _ in range(2):  # the rerun completes; the one after it finds nothing to do
            async with runtime.db.session() as s:
                report = await invoicing.run(s, stripe, settings, PERIOD)
    assert (report.planned, report.paid, report.failed) == (0, [], [])
    invoices = await fake_events(provider, customer, "invoice.created")
    assert len(invoices) == 1
    assert len(await fake_events(provider, customer, "invoiceitem.created")) == 2
    paid = await fake_events(provider, customer, "invoice.paid")
    assert [(i["id"], i["amount_paid"], i["currency"]) for i in paid] == [(invoices[0]["id"], 550, "usd")]
    assert len(await fake_events(provider, customer, "charge.succeeded")) == 1
    async with runtime.db.session() as s:
        planned = (await s.execute(select(UsageInvoice))).scalars().all()
        assert [(p.consumer_id, p.total, p.provider_invoice_id) for p in planned] == [
            (consumer.id, 550, invoices[0]["id"])]  # fmt: skip
        mirror = (await s.execute(select(BillingInvoice))).scalar_one()
        assert (mirror.status, mirror.amount_paid) == ("paid", 550)
        # 80 % of each line to the publisher: 400 + 40.
        assert await ledger.balances(s, pub.id) == [(pub.id, "usd", 440)]
    # The CLI runs the same job: a bad period is one line and a non-zero exit.
    from modelhub.cli import app as cli

    result = await asyncio.to_thread(CliRunner().invoke, cli, ["billing", "invoice", "--period", "2025-13"])
    assert result.exit_code == 1 and "YYYY-MM" in result.output


async def test_declined_card_is_dunned_retried_then_uncollectible_and_suspended(
    app: FastAPI, client: httpx.AsyncClient, runtime: Runtime, provider: FakeProvider
) -> None:
    settings = configure(runtime, provider, billing_retry_schedule_s=[0, 0, 0])
    _, consumer, customer = await setup_usage(client, runtime, provider, "pm_card_chargeCustomerFail")
    async with serve_asgi(app) as base:
        await provider.control.register_webhook(base + "/api/v1/payments/webhooks")
        await provider.control.webhooks(duplicate=True)  # every failure reported twice
        try:
            async with provider.adapter() as stripe:
                async with runtime.db.session() as s:
                    report = await invoicing.run(s, stripe, settings, PERIOD)
                assert len(report.failed) == 1
                for _ in range(3):  # retries on the (zero-second) schedule
                    async with runtime.db.session() as s:
                        assert await collection.retry_due(s, stripe, settings) == 0
                async with runtime.db.session() as s:  # nothing left to retry
                    assert await collection.retry_due(s, stripe, settings) == 0
            await wait_for_deliveries(provider, customer)
        finally:
            await provider.control.reset()
    async with runtime.db.session() as s:
        mirror = (await s.execute(select(BillingInvoice).where(
            BillingInvoice.customer == customer))).scalar_one()  # fmt: skip
        assert (mirror.status, mirror.attempt_count, mirror.amount_paid) == ("uncollectible", 4, 0)
        suspended = (await s.execute(select(BillingCustomer.suspended_at).where(
            BillingCustomer.consumer_id == consumer.id))).scalar_one()  # fmt: skip
        assert suspended is not None
    mails = await wait_for_mails(runtime, 4)
    subjects = sorted(m.read_text().split("Subject: ", 1)[1].split("\n", 1)[0] for m in mails)
    assert sum("attempt" in s for s in subjects) == 3 and sum("suspended" in s for s in subjects) == 1


async def wait_for_deliveries(fake: FakeProvider, customer: str) -> None:
    """Until every payment_failed event of the customer was delivered (twice) and acknowledged."""
    failed = len(await fake_events(fake, customer, "invoice.payment_failed"))
    assert failed == 4
    deadline = time.monotonic() + 60
    while True:
        ok = [d for d in await fake.control.deliveries()
              if d["event_type"] == "invoice.payment_failed" and d["status"] == 200]  # fmt: skip
        if len(ok) >= 2 * failed:
            return
        assert time.monotonic() < deadline, f"{len(ok)} deliveries"
        await asyncio.sleep(0.1)


async def wait_for_mails(runtime: Runtime, count: int) -> list[Any]:
    """Until the dunning consumer handled ``count`` events; then the mails it sent."""
    deadline = time.monotonic() + 60
    while True:
        async with runtime.db.session() as s:
            handled = (await s.execute(select(func.count()).select_from(ProcessedEvent).where(
                ProcessedEvent.consumer == "billing.dunning-mail"))).scalar_one()  # fmt: skip
        if handled >= count:
            break
        assert time.monotonic() < deadline, f"{handled} dunning events handled"
        await asyncio.sleep(0.1)
    sent = runtime.mailer.messages()  # type: ignore[attr-defined]
    mails = [m for m in sent if "Subject: Payment failed" in m.read_text()
             or "Subject: Invoice" in m.read_text()]  # (sign-up mails are there too)
    assert handled == count and len(mails) == count
    return mails


async def test_refunds_ledger_and_payouts(
    client: httpx.AsyncClient, runtime: Runtime, provider: FakeProvider
) -> None:
    settings = configure(runtime, provider, payout_threshold=100)
    pub, consumer, customer = await setup_usage(client, runtime, provider, "pm_card_visa")
    async with provider.adapter() as stripe, runtime.db.session() as s:
        invoice = (await invoicing.run(s, stripe, settings, PERIOD)).paid[0]
    staff = await register_and_login(client)
    await set_user(runtime, staff, role="admin", is_verified=True)
    url = f"/api/v1/billing/invoices/{invoice}/refunds"
    first = await client.post(url, json={"amount": 100, "reason": "outage"},
                              headers={**staff.headers, "Idempotency-Key": "r1"})  # fmt: skip
    assert first.status_code == 201, first.text
    again = await client.post(url, json={"amount": 100},
                              headers={**staff.headers, "Idempotency-Key": "r1"})  # fmt: skip
    assert (again.json()["id"], again.headers["Idempotent-Replayed"]) == (first.json()["id"], "true")
    too_much = await client.post(url, json={"amount": 451}, headers=staff.headers)
    assert too_much.status_code == 409
    assert too_much.headers["content-type"].startswith("application/problem+json")
    rest = await client.post(url, json={}, headers=staff.headers)
    assert (rest.status_code, rest.json()["amount"], rest.json()["invoice_amount_refunded"]) == (201, 450, 550)
    assert (await client.post(url, json={"amount": 1}, headers=staff.headers)).status_code == 409
    for who, status in ((consumer, 403), (pub, 403)):
        assert (await client.post(url, json={}, headers=who.headers)).status_code == status
    assert (await client.post("/api/v1/billing/invoices/in_nope/refunds", json={},
                              headers=staff.headers)).status_code == 404  # fmt: skip
    assert len(await fake_events(provider, customer, "charge.refunded")) == 2
    # Credits 400 + 40; the refund of 100 spreads as 90 + 9 (debits 72 + 7), of 450 as
    # 409 + 40 (debits 327 + 32): 2 left, rounding always in the marketplace's favour.
    page = (await client.get("/api/v1/billing/ledger", headers=pub.headers)).json()
    assert page["balances"] == [{"publisher_id": str(pub.id), "currency": "usd", "balance": 2}]
    kinds = sorted(e["kind"] for e in page["entries"])
    assert kinds == ["credit", "credit", "refund", "refund", "refund", "refund"]
    assert (await client.get(f"/api/v1/billing/ledger?publisher={pub.id}",
                             headers=consumer.headers)).status_code == 403  # fmt: skip
    narrow = {"X-API-Key": (await create_api_key(client, pub, ["team:read"]))["key"]}
    for method, path in (("GET", "/api/v1/billing/ledger"), ("GET", "/api/v1/billing/payouts"),
                         ("POST", url)):  # fmt: skip
        body: Any = {"json": {}} if method == "POST" else {}
        assert (await client.request(method, path, **body)).status_code == 401
        denied = await client.request(method, path, headers=narrow, **body)
        assert denied.status_code == 403
        assert denied.headers["content-type"].startswith("application/problem+json")
    # Anyone else reads only their own ledger (here: empty).
    assert (await client.get("/api/v1/billing/ledger", headers=consumer.headers)).json() == {
        "balances": [], "entries": []}  # fmt: skip
    # Payouts: a balance of 2 is under the threshold of 100; a purchase credit lifts it.
    async with runtime.db.transaction() as s:
        assert await ledger.run_payouts(s, PERIOD, settings.payout_threshold) == []
        await ledger.credit_purchase(s, settings.publisher_share_bps, uuid.uuid4(), pub.id,
                                     1000, "usd", "x/y")  # fmt: skip
    async with runtime.db.transaction() as s:
        made = await ledger.run_payouts(s, PERIOD, settings.payout_threshold)
    async with runtime.db.transaction() as s:
        assert await ledger.run_payouts(s, PERIOD, settings.payout_threshold) == []
    assert [(p.publisher_id, p.amount) for p in made] == [(pub.id, 802)]
    payouts = (await client.get("/api/v1/billing/payouts", headers=pub.headers)).json()
    assert [(p["period"], p["amount"]) for p in payouts] == [(PERIOD, 802)]
    page = (await client.get("/api/v1/billing/ledger", headers=pub.headers)).json()
    assert page["balances"][0]["balance"] == 0
    async with runtime.db.session() as s:
        rows = (await s.execute(select(func.count()).select_from(LedgerEntry))).scalar_one()
    assert rows == 8  # 2 credits, 4 refund debits, 1 purchase credit, 1 payout debit
