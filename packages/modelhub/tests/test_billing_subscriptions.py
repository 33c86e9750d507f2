"""Plan subscriptions over HTTP against the fake provider (a subprocess): subscribe once
(a repeated request replays), upgrade and downgrade with provider prorations, cancel at the
period end; refusals are problems and leave no local row."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from modelhub.billing.models import BillingSubscription
from sqlalchemy import select

from forgekit.identity.testing import create_api_key, register_and_login
from forgekit.runtime import Runtime
from forgekit.testing.loopback import serve_asgi
from forgekit.testing.payments import FakeProvider, fake_provider

URL = "/api/v1/billing/subscription"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with fake_provider() as fake:
        yield fake


async def created(fake: FakeProvider, path: str) -> int:
    """POSTs to ``path`` the fake executed (replays of a key excluded)."""
    return sum(1 for r in await fake.control.requests()
               if r["method"] == "POST" and r["path"] == path and r["status"] == 200
               and not r["replayed"])  # fmt: skip


async def prorations(fake: FakeProvider, subscription: str) -> list[int]:
    """Amounts of the proration items the fake created for a subscription."""
    return [e["data"]["object"]["amount"] for e in await fake.control.events()
            if e["type"] == "invoiceitem.created" and e["data"]["object"].get("proration")
            and e["data"]["object"].get("subscription") == subscription]  # fmt: skip


async def test_subscribe_upgrade_downgrade_and_cancel_at_period_end(
    client: httpx.AsyncClient, runtime: Runtime, provider: FakeProvider
) -> None:
    consumer = await register_and_login(client)
    body = {"plan": "starter", "payment_method": "pm_card_visa"}
    assert (await client.put(URL, json=body, headers=consumer.headers)).status_code == 503
    runtime.app_settings.payments_base_url = provider.base_url  # type: ignore[attr-defined]
    runtime.app_settings.payments_api_key = provider.api_key  # type: ignore[attr-defined]
    before = await created(provider, "/v1/subscriptions")
    first = await client.put(URL, json=body, headers=consumer.headers)
    assert first.status_code == 200, first.text
    assert {k: first.json()[k] for k in ("plan", "amount", "currency", "status")} == {
        "plan": "starter", "amount": 900, "currency": "usd", "status": "active"}  # fmt: skip
    again = await client.put(URL, json=body, headers=consumer.headers)
    assert again.json() == first.json()
    assert await created(provider, "/v1/subscriptions") == before + 1
    async with runtime.db.session() as s:
        sub_id = (await s.execute(select(BillingSubscription.provider_id).where(
            BillingSubscription.consumer_id == consumer.id))).scalar_one()  # fmt: skip
    up = await client.put(URL, json={"plan": "pro"}, headers=consumer.headers)
    assert (up.status_code, up.json()["plan"], up.json()["amount"]) == (200, "pro", 2900)
    down = await client.put(URL, json={"plan": "starter"}, headers=consumer.headers)
    assert down.json()["plan"] == "starter"
    items = await prorations(provider, sub_id)
    # Each change credits the unused old plan and charges the new one for the rest.
    assert len(items) == 4 and sum(1 for a in items if a < 0) == 2
    cancelled = await client.delete(URL, headers=consumer.headers)
    assert cancelled.status_code == 200
    ended = cancelled.json()
    assert (ended["cancel_at_period_end"], ended["status"]) == (True, "active")
    assert (await client.delete(URL, headers=consumer.headers)).json() == cancelled.json()
    assert (await client.get(URL, headers=consumer.headers)).json() == cancelled.json()


async def test_refused_subscriptions_are_problems(
    client: httpx.AsyncClient, runtime: Runtime, provider: FakeProvider
) -> None:
    runtime.app_settings.payments_base_url = provider.base_url  # type: ignore[attr-defined]
    runtime.app_settings.payments_api_key = provider.api_key  # type: ignore[attr-defined]
    consumer = await register_and_login(client)
    for body, status in (({"plan": "gold"}, 422), ({"plan": 1}, 422), ({}, 422),
                         ({"plan": "pro", "payment_method": "pm_card_chargeDeclined"}, 409)):  # fmt: skip
        resp = await client.put(URL, json=body, headers=consumer.headers)
        assert resp.status_code == status, (body, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
    missing = await client.get(URL, headers=consumer.headers)
    assert missing.status_code == 404
    assert (await client.delete(URL, headers=consumer.headers)).status_code == 404
    assert (await client.get(URL)).status_code == 401


async def test_four_auth_cases_of_subscriptions(
    client: httpx.AsyncClient, runtime: Runtime, provider: FakeProvider
) -> None:
    runtime.app_settings.payments_base_url = provider.base_url  # type: ignore[attr-defined]
    runtime.app_settings.payments_api_key = provider.api_key  # type: ignore[attr-defined]
    owner = await register_and_login(client)
    other = await register_and_login(client)
    narrow = {"X-API-Key": (await create_api_key(client, owner, ["team:read"]))["key"]}
    body = {"plan": "starter", "payment_method": "pm_card_visa"}
    assert (await client.put(URL, json=body, headers=owner.headers)).status_code == 200
    for method in ("GET", "PUT", "DELETE"):
        kwargs = {"json": body} if method == "PUT" else {}
        anonymous = await client.request(method, URL, **kwargs)  # type: ignore[arg-type]
        scoped = await client.request(method, URL, headers=narrow, **kwargs)  # type: ignore[arg-type]
        assert (anonymous.status_code, scoped.status_code) == (401, 403), method
        assert scoped.headers["content-type"].startswith("application/problem+json")
    # Someone else's subscription is not reachable: the other consumer has none of their own.
    assert (await client.get(URL, headers=other.headers)).status_code == 404
    assert (await client.delete(URL, headers=other.headers)).status_code == 404
    assert (await client.get(URL, headers=owner.headers)).json()["plan"] == "starter"


async def test_subscription_webhooks_in_reverse_order_only_move_the_mirror_forward(
    app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    consumer = await register_and_login(client)
    with fake_provider() as fake:  # its own: the clock moves and a charge is declined
        settings: Any = runtime.app_settings
        settings.payments_base_url, settings.payments_api_key = fake.base_url, fake.api_key
        settings.payments_webhook_secret = fake.webhook_secret
        async with serve_asgi(app) as base:
            await fake.control.register_webhook(base + "/api/v1/payments/webhooks")
            # Newest first (redelivery of one event id is test_billing_webhooks' case).
            await fake.control.webhooks(hold=True, reverse=True)
            body = {"plan": "starter", "payment_method": "pm_card_visa"}
            assert (await client.put(URL, json=body, headers=consumer.headers)).status_code == 200
            up = await client.put(URL, json={"plan": "pro"}, headers=consumer.headers)
            assert up.json()["plan"] == "pro"
            # A month on, the renewal is declined: the provider makes it past_due, later.
            await fake.control.fail_next("decline", 1)
            now = await fake.control.advance_clock(31 * 86_400)
            sent = await fake.control.flush_webhooks()
            deadline = time.monotonic() + 60
            while len([d for d in await fake.control.deliveries() if d["status"] == 200]) < sent:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
    got = (await client.get(URL, headers=consumer.headers)).json()
    # Newest first: past_due arrived first; the older "active, starter" events changed nothing.
    assert (got["plan"], got["status"], got["current_period_end"] > now - 86_400) == (
        "pro", "past_due", True)  # fmt: skip
    async with runtime.db.session() as s:
        row = (await s.execute(select(BillingSubscription).where(
            BillingSubscription.consumer_id == consumer.id))).scalar_one()  # fmt: skip
        assert row.event_created >= now
