"""Fraud scoring at checkout over the API, paying through the kit's fake provider: approve
captures as before, decline refuses the order and frees its stock, review holds the capture
until staff decide. No fraud model is trained here: the rules alone decide."""

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from shop.checkout.screening import ClientSignals, score_order
from shop.ml.models import FraudCase
from shop.orders.models import Order
from shop.payments.models import Payment, ProcessedEvent
from shop.testing import (
    ADDRESS,
    anonymous_cart,
    app_paying_through,
    make_channel,
    make_product,
    staff_user,
    stock_variant,
)
from sqlalchemy import func, select

from forgekit.identity.testing import TestUser, register_and_login
from forgekit.runtime import Runtime
from forgekit.testing.loopback import serve_asgi
from forgekit.testing.payments import FakeProvider, payment_provider  # noqa: F401

PROBLEM = "application/problem+json"
CLIENT = {"X-Device-Id": "dev-1", "X-Client-Country": "GB", "User-Agent": "test-browser"}
VISA = {"payment_method": "pm_card_visa"}


@pytest.fixture
def app_factory(payment_provider: FakeProvider):  # noqa: F811
    return app_paying_through(payment_provider)


async def _until(check: Any, what: str, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _shop(client: httpx.AsyncClient, runtime: Runtime, units: int) -> tuple[TestUser, str]:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    variant = (await make_product(client, staff, prices={"eu": 2500}))["variants"][0]["id"]
    await stock_variant(client, staff, variant, {"main": units})
    return staff, variant


async def _weigh_fresh_accounts(client: httpx.AsyncClient, staff: TestUser, weight: float) -> None:
    """Staff make an account younger than a day weigh ``weight`` (every test account is)."""
    rule = {"feature": "account_age_days", "op": "<", "threshold": 1.0, "weight": weight,
            "message": "account younger than a day"}  # fmt: skip
    put = await client.put("/api/v1/fraud/rules/fresh_account", json=rule, headers=staff.headers)
    assert put.status_code == 200, put.text


async def _checkout(client: httpx.AsyncClient, customer: TestUser, variant: str) -> httpx.Response:
    await client.post("/api/v1/cart/lines", headers=customer.headers,
                      json={"variant_id": variant, "quantity": 1})  # fmt: skip
    return await client.post("/api/v1/checkout", headers={**customer.headers, **CLIENT},
                             json={"shipping_address": ADDRESS})  # fmt: skip


async def _reserved(client: httpx.AsyncClient, staff: TestUser, variant: str) -> int:
    levels = (await client.get(f"/api/v1/variants/{variant}/stock", headers=staff.headers)).json()
    return sum(level["reserved"] for level in levels)


async def _case(client: httpx.AsyncClient, staff: TestUser, order_id: str, status: str) -> dict:
    cases = await client.get("/api/v1/fraud/cases", params={"status": status},
                             headers=staff.headers)  # fmt: skip
    assert cases.status_code == 200, cases.text
    found = [c for c in cases.json() if c["order_ref"] == order_id]
    assert len(found) == 1, cases.json()
    assert found[0]["order_url"] == f"/api/v1/orders/{order_id}"
    return dict(found[0])


async def _status(runtime: Runtime, order_id: str) -> tuple[str, str | None]:
    async with runtime.db.session() as session:
        oid = uuid.UUID(order_id)
        order = await session.scalar(select(Order.status).where(Order.id == oid))
        payment = await session.scalar(select(Payment.status).where(Payment.order_id == oid))
    assert order is not None
    return order, payment


async def test_an_ordinary_order_is_approved_captured_and_scored_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff, variant = await _shop(client, runtime, 3)
    customer = await register_and_login(client)
    placed = await _checkout(client, customer, variant)
    assert placed.status_code == 201, placed.text
    oid = placed.json()["id"]
    case = await _case(client, staff, oid, "approved")
    assert case["decision"] == "approve" and case["model_version"] is None  # rules alone
    assert case["customer_ref"] == str(customer.id)
    paid = await client.post(f"/api/v1/orders/{oid}/payment", headers=customer.headers, json=VISA)
    assert paid.status_code == 201, paid.text
    captured = await client.post(f"/api/v1/orders/{oid}/payment/capture", headers=customer.headers)
    assert captured.status_code == 200 and captured.json()["captured"] == placed.json()["total"]
    assert await _status(runtime, oid) == ("unfulfilled", "captured")
    # A retried scoring of the same order returns the first case: one case per order.
    serving = runtime.ml  # type: ignore[attr-defined]
    signals = ClientSignals.from_headers("dev-1", "test-browser", "GB")
    async with runtime.db.session() as session:
        order = await session.get(Order, uuid.UUID(oid))
        assert order is not None
        again = await score_order(session, serving, order, signals, None)
        count = await session.scalar(select(func.count()).select_from(FraudCase))
    assert str(again.id) == case["id"] and count == 1


async def test_a_declined_guest_order_is_refused_and_its_stock_freed(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff, variant = await _shop(client, runtime, 3)
    await _weigh_fresh_accounts(client, staff, 1.0)  # a guest is as young as the order
    cart = await anonymous_cart(client, variant, 2)
    refused = await client.post("/api/v1/checkout", headers={**cart, **CLIENT},
                                json={"shipping_address": ADDRESS, "email": "g@example.com"})  # fmt: skip
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    body = refused.json()
    assert body["title"] == "Order refused" and "fraud" not in body["detail"].lower()
    oid = body["order_id"]
    assert await _status(runtime, oid) == ("cancelled", None)
    assert await _reserved(client, staff, variant) == 0
    case = await _case(client, staff, oid, "open")
    assert case["decision"] == "decline" and case["customer_ref"].startswith("guest-")
    assert "fresh_account" in {hit["rule"] for hit in case["hits"]}
    # The refused order cannot be paid.
    async with runtime.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0


async def test_a_review_order_is_captured_only_after_staff_approve(
    app: FastAPI,
    client: httpx.AsyncClient,
    runtime: Runtime,
    payment_provider: FakeProvider,  # noqa: F811
) -> None:
    staff, variant = await _shop(client, runtime, 3)
    await _weigh_fresh_accounts(client, staff, 0.5)  # rules score 0.5: review
    fake = payment_provider.control
    async with serve_asgi(app) as url:
        await fake.reset()
        await fake.register_webhook(f"{url}/api/v1/payments/webhook")
        buyer, crook = await register_and_login(client), await register_and_login(client)
        good, bad = await _checkout(client, buyer, variant), await _checkout(client, crook, variant)
        assert good.status_code == bad.status_code == 201, (good.text, bad.text)
        oid, bad_id = good.json()["id"], bad.json()["id"]
        paid = await client.post(f"/api/v1/orders/{oid}/payment", headers=buyer.headers,
                                 json=VISA)  # fmt: skip
        assert paid.status_code == 201 and paid.json()["status"] == "authorized", paid.text

        async def webhook_seen() -> bool:
            async with runtime.db.session() as session:
                return bool(await session.scalar(select(ProcessedEvent.event_id).where(
                    ProcessedEvent.type == "payment_intent.amount_capturable_updated")))  # fmt: skip

        # The provider's "capturable" webhook is recorded as held: no capture.
        await _until(webhook_seen, "the capturable webhook")
        capture = f"/api/v1/orders/{oid}/payment/capture"
        held = await client.post(capture, headers=buyer.headers)
        assert held.status_code == 409 and held.headers["content-type"] == PROBLEM
        assert held.json()["title"] == "Payment held for review"
        assert await _status(runtime, oid) == ("unconfirmed", "authorized")
        case = await _case(client, staff, oid, "open")
        assert case["decision"] == "review"
        approve = await client.post(f"/api/v1/fraud/cases/{case['id']}/feedback",
                                    json={"label": "false_positive"}, headers=staff.headers)  # fmt: skip
        assert approve.status_code == 200 and approve.json()["status"] == "false_positive"
        assert await _status(runtime, oid) == ("unfulfilled", "captured")
        again = await client.post(capture, headers=buyer.headers)
        assert again.status_code == 200 and again.json()["captured"] == good.json()["total"]
        intent = paid.json()["intent_id"]
        captures = [r for r in await fake.requests()
                    if r["path"].endswith(f"{intent}/capture") and not r.get("replayed")]  # fmt: skip
        assert len(captures) == 1
        # The other one is confirmed fraud: cancelled, its authorisation voided, stock freed.
        await client.post(f"/api/v1/orders/{bad_id}/payment", headers=crook.headers, json=VISA)
        reserved = await _reserved(client, staff, variant)
        case = await _case(client, staff, bad_id, "open")
        reject = await client.post(f"/api/v1/fraud/cases/{case['id']}/feedback",
                                   json={"label": "confirmed_fraud"}, headers=staff.headers)  # fmt: skip
        assert reject.status_code == 200, reject.text
        assert await _status(runtime, bad_id) == ("cancelled", "cancelled")
        assert await _reserved(client, staff, variant) == reserved - 1
        assert any(r["path"].endswith("/cancel") for r in await fake.requests())
        await fake.webhooks()
