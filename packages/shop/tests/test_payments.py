"""Payments through forgekit.payments against the kit's fake provider (a real HTTP server in a
subprocess), with its webhooks delivered to the app on a loopback port."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from shop.inventory.models import Reservation
from shop.inventory.tasks import ReservationSweep
from shop.orders.models import Order
from shop.payments.models import Payment, ProcessedEvent
from shop.testing import (
    ADDRESS,
    app_paying_through,
    make_channel,
    make_product,
    staff_user,
    stock_variant,
)
from sqlalchemy import func, select, update

from forgekit.db.base import utcnow
from forgekit.identity.testing import TestUser, register_and_login, sink_messages
from forgekit.runtime import Runtime
from forgekit.testing.loopback import serve_asgi
from forgekit.testing.payments import FakeProvider, payment_provider  # noqa: F401

PROBLEM = "application/problem+json"


@pytest.fixture
def app_factory(payment_provider: FakeProvider):  # noqa: F811
    return app_paying_through(payment_provider)


@pytest.fixture
async def webhooks(app: FastAPI, payment_provider: FakeProvider) -> AsyncIterator[str]:  # noqa: F811
    """The app on a loopback port, registered with the fake for every event."""
    async with serve_asgi(app) as url:
        await payment_provider.control.reset()
        await payment_provider.control.register_webhook(f"{url}/api/v1/payments/webhook")
        yield url
    await payment_provider.control.webhooks()


async def _until(check: Any, what: str, timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _order_for(client: httpx.AsyncClient, customer: TestUser, variant: str) -> dict:
    await client.post(
        "/api/v1/cart/lines", headers=customer.headers, json={"variant_id": variant, "quantity": 1}
    )
    resp = await client.post(
        "/api/v1/checkout", headers=customer.headers, json={"shipping_address": ADDRESS}
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _shop(client: httpx.AsyncClient, runtime: Runtime, units: int) -> tuple[TestUser, str]:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    variant = (await make_product(client, staff, prices={"eu": 2500}))["variants"][0]["id"]
    await stock_variant(client, staff, variant, {"main": units})
    return staff, variant


async def _captures(fake: FakeProvider, intent: str) -> list[dict[str, Any]]:
    return [
        r
        for r in await fake.control.requests()
        if r["path"].endswith(f"{intent}/capture") and not r.get("replayed")
    ]


async def test_pay_capture_refund_and_declines(
    client: httpx.AsyncClient,
    runtime: Runtime,
    webhooks: str,
    payment_provider: FakeProvider,  # noqa: F811
) -> None:
    staff, variant = await _shop(client, runtime, 5)
    customer = await register_and_login(client)
    # Refund receipts are transactional: sent even with every notification turned off.
    quiet = {"marketing_emails": False, "notifications": {"order_updates": False,
                                                          "shipping": False}}  # fmt: skip
    resp = await client.patch("/api/v1/me/preferences", headers=customer.headers, json=quiet)
    assert resp.status_code == 200, resp.text
    order = await _order_for(client, customer, variant)
    oid = order["id"]
    declined = await client.post(
        f"/api/v1/orders/{oid}/payment",
        headers=customer.headers,
        json={"payment_method": "pm_card_chargeDeclined"},
    )
    assert declined.status_code == 402 and declined.headers["content-type"] == PROBLEM
    paid = await client.post(
        f"/api/v1/orders/{oid}/payment",
        headers=customer.headers,
        json={"payment_method": "pm_card_visa"},
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["amount"] == order["total"]
    again = await client.post(
        f"/api/v1/orders/{oid}/payment",
        headers=customer.headers,
        json={"payment_method": "pm_card_visa"},
    )
    assert again.status_code == 409
    captured = await client.post(f"/api/v1/orders/{oid}/payment/capture", headers=customer.headers)
    assert captured.status_code == 200 and captured.json()["captured"] == order["total"]
    got = (await client.get(f"/api/v1/orders/{oid}", headers=customer.headers)).json()
    assert got["status"] == "unfulfilled"
    # Partial, then the rest; never more than was captured.
    first = await client.post(
        f"/api/v1/orders/{oid}/refunds",
        headers=staff.headers,
        json={"amount": 1000, "reason": "scratched"},
    )
    assert first.status_code == 201 and first.json()["status"] == "succeeded", first.text
    too_much = await client.post(
        f"/api/v1/orders/{oid}/refunds", headers=staff.headers, json={"amount": order["total"]}
    )
    assert too_much.status_code == 409
    assert (
        await client.post(f"/api/v1/orders/{oid}/refunds", headers=customer.headers, json={})
    ).status_code == 403
    rest = await client.post(f"/api/v1/orders/{oid}/refunds", headers=staff.headers, json={})
    assert rest.json()["amount"] == order["total"] - 1000
    async with runtime.db.session() as session:
        payment = await session.scalar(select(Payment))
        assert payment is not None and payment.refunded == payment.captured == order["total"]
    # Each refund mailed the customer once, with its amount.
    await runtime.events.drain(timeout_s=60)
    refunds = [
        m.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        for m in sink_messages(runtime.settings.mail_sink_dir)
        if m["Subject"] == f"Refund for order {oid[:8].upper()}"
    ]
    rest_amount = order["total"] - 1000
    rest_text = f"{rest_amount // 100}.{rest_amount % 100:02d} EUR"
    assert sorted(text.split(" for your order")[0] for text in refunds) == sorted(
        ["We have refunded 10.00 EUR", f"We have refunded {rest_text}"]
    )

    # The provider's webhooks arrive, are verified and are recorded once each.
    async def handled() -> int:
        async with runtime.db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0)

    await _until(lambda: handled(), "webhooks handled")
    forged = await client.post(
        "/api/v1/payments/webhook", content=b"{}", headers={"Stripe-Signature": "t=1,v1=00"}
    )
    assert forged.status_code == 400 and forged.headers["content-type"] == PROBLEM


async def test_storefront_and_webhook_confirming_at_once_capture_once(
    client: httpx.AsyncClient,
    runtime: Runtime,
    webhooks: str,
    payment_provider: FakeProvider,  # noqa: F811
) -> None:
    """Medusa #13301: the storefront's confirm and the provider's webhook race."""
    _, variant = await _shop(client, runtime, 3)
    customer = await register_and_login(client)
    order = await _order_for(client, customer, variant)
    oid = order["id"]
    control = payment_provider.control
    await control.webhooks(hold=True, duplicate=True)
    paid = await client.post(
        f"/api/v1/orders/{oid}/payment",
        headers=customer.headers,
        json={"payment_method": "pm_card_visa"},
    )
    intent = paid.json()["intent_id"]
    flushed, *confirms = await asyncio.gather(
        control.flush_webhooks(),
        *(
            client.post(f"/api/v1/orders/{oid}/payment/capture", headers=customer.headers)
            for _ in range(3)
        ),
    )
    assert flushed > 0
    assert all(r.status_code == 200 for r in confirms), [r.text for r in confirms]

    async def settled() -> bool:
        deliveries = [d for d in await control.deliveries() if d["status"] is not None]
        got = (await client.get(f"/api/v1/orders/{oid}", headers=customer.headers)).json()
        return got["status"] == "unfulfilled" and len(deliveries) >= 2 * flushed

    await _until(settled, "order confirmed and every webhook delivered")
    assert len(await _captures(payment_provider, intent)) == 1
    history = (await client.get(f"/api/v1/orders/{oid}/history", headers=customer.headers)).json()
    assert [h["action"] for h in history] == ["place", "confirm"]
    async with runtime.db.session() as session:
        payment = await session.scalar(select(Payment))
        assert payment is not None
        assert (payment.status, payment.captured) == ("captured", order["total"])


async def test_two_carts_for_the_last_unit_make_one_order(
    client: httpx.AsyncClient,
    runtime: Runtime,
    payment_provider: FakeProvider,  # noqa: F811
) -> None:
    """Medusa #16825: two carts complete for the last unit."""
    _, variant = await _shop(client, runtime, 1)
    first, second = await register_and_login(client), await register_and_login(client)
    for customer in (first, second):
        await client.post(
            "/api/v1/cart/lines",
            headers=customer.headers,
            json={"variant_id": variant, "quantity": 1},
        )
    results = await asyncio.gather(
        *(
            client.post("/api/v1/checkout", headers=c.headers, json={"shipping_address": ADDRESS})
            for c in (first, second)
        )
    )
    assert sorted(r.status_code for r in results) == [201, 409]
    # The holder's payment goes through; then a late one: its hold expired and the unit went
    # to another cart, so the captured money goes straight back.
    winner = next(r for r in results if r.status_code == 201).json()
    buyer = first if winner["email"] == first.email else second
    late_buyer = second if buyer is first else first
    await client.put(
        f"/api/v1/cart/lines/{variant}", headers=late_buyer.headers, json={"quantity": 1}
    )
    paid = await client.post(
        f"/api/v1/orders/{winner['id']}/payment",
        headers=buyer.headers,
        json={"payment_method": "pm_card_visa"},
    )
    assert paid.status_code == 201, paid.text
    async with runtime.db.transaction() as session:
        await session.execute(update(Reservation).values(expires_at=utcnow() - timedelta(1)))
    sweep = next(s for s in runtime.services if isinstance(s, ReservationSweep))
    assert await sweep.sweep_once() == 1
    other = await client.post(
        "/api/v1/checkout", headers=late_buyer.headers, json={"shipping_address": ADDRESS}
    )
    assert other.status_code == 201, other.text
    late = await client.post(
        f"/api/v1/orders/{winner['id']}/payment/capture", headers=buyer.headers
    )
    assert late.status_code == 200
    assert late.json()["captured"] == late.json()["refunded"] == winner["total"]
    async with runtime.db.session() as session:
        statuses = sorted((await session.execute(select(Order.status))).scalars().all())
    assert statuses == ["expired", "unconfirmed"]
    # The new holder pays and gets the unit: one sold order, stock never below zero.
    pay = await client.post(
        f"/api/v1/orders/{other.json()['id']}/payment",
        headers=late_buyer.headers,
        json={"payment_method": "pm_card_visa"},
    )
    assert pay.status_code == 201
    done = await client.post(
        f"/api/v1/orders/{other.json()['id']}/payment/capture", headers=late_buyer.headers
    )
    assert done.json()["status"] == "captured" and done.json()["refunded"] == 0
    async with runtime.db.session() as session:
        statuses = sorted((await session.execute(select(Order.status))).scalars().all())
    assert statuses == ["expired", "unfulfilled"]


async def test_a_return_refunds_the_units_value(
    client: httpx.AsyncClient,
    runtime: Runtime,
    payment_provider: FakeProvider,  # noqa: F811
) -> None:
    staff, variant = await _shop(client, runtime, 2)
    customer = await register_and_login(client)
    await client.post(
        "/api/v1/cart/lines", headers=customer.headers, json={"variant_id": variant, "quantity": 1}
    )
    order = await _order_for(client, customer, variant)  # adds one more: two units
    oid, line = order["id"], order["lines"][0]["id"]
    await client.post(
        f"/api/v1/orders/{oid}/payment",
        headers=customer.headers,
        json={"payment_method": "pm_card_visa"},
    )
    await client.post(f"/api/v1/orders/{oid}/payment/capture", headers=customer.headers)
    shipped = await client.post(
        f"/api/v1/orders/{oid}/fulfilments",
        headers=staff.headers,
        json={
            "carrier": "UPS",
            "tracking_number": "1Z999",
            "lines": [{"line_id": line, "quantity": 2}],
        },
    )
    assert shipped.status_code == 201, shipped.text
    back = await client.post(
        f"/api/v1/orders/{oid}/returns",
        headers=staff.headers,
        json={"lines": [{"line_id": line, "quantity": 1}], "refund": True},
    )
    assert back.status_code == 200, back.text
    assert back.json()["value"] == back.json()["refunded"] == 2500
    async with runtime.db.session() as session:
        payment = await session.scalar(select(Payment))
        assert payment is not None and payment.refunded == 2500
    refunds = [e for e in await payment_provider.control.events() if e["type"] == "refund.created"]
    assert any(e["data"]["object"]["amount"] == 2500 for e in refunds)
