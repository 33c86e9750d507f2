"""Buying a model through the purchase saga (in-process worker, the fake provider over HTTP):
completed with one charge and a grant that opens a paid model; a declined card fails with no
grant; a retried order is the same purchase; problems for what cannot be bought."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from modelhub.grants.models import ModelGrant
from modelhub.testing import affine_onnx, host_model
from sqlalchemy import select

from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime
from forgekit.testing.payments import FakeProvider, fake_provider

PRICING = {"free_calls_per_month": 0, "price_per_1k_calls": "1.00", "purchase_price": 1999}
BODY = {"inputs": {"x": [[0.0, 1.0, 2.0, 3.0]]}}


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with fake_provider() as fake:
        yield fake


async def until_final(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict:
    """Poll a purchase until its saga has ended."""
    deadline = time.monotonic() + 90
    while True:
        body = dict((await client.get(url, headers=headers)).json())
        if body["step"] in ("completed", "compensated", "failed"):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


async def charges(provider: FakeProvider, purchase_id: str) -> int:
    """Charges the provider executed for a purchase (replays of its key excluded)."""
    key = f"purchase-{purchase_id}-charge"
    return sum(1 for r in await provider.control.requests()
               if r["idempotency_key"] == key and r["status"] == 200 and not r["replayed"])  # fmt: skip


async def test_buying_charges_once_grants_access_and_a_decline_grants_nothing(
    client: httpx.AsyncClient, runtime: Runtime, provider: FakeProvider
) -> None:
    runtime.app_settings.payments_base_url = provider.base_url  # type: ignore[attr-defined]
    runtime.app_settings.payments_api_key = provider.api_key  # type: ignore[attr-defined]
    hosted = await host_model(client, runtime, affine_onnx(), name="paid", pricing=PRICING)
    consumer = await register_and_login(client)
    blocked = await client.post(hosted.infer_url(), json=BODY, headers=consumer.headers)
    assert blocked.status_code == 402
    headers = {**consumer.headers, "Idempotency-Key": "buy-1"}
    resp = await client.post(f"{hosted.base}/purchase", headers=headers,
                             json={"payment_method": "pm_card_visa"})  # fmt: skip
    assert resp.status_code == 202, resp.text
    bought = resp.json()
    assert (bought["amount"], bought["currency"], bought["step"]) == (1999, "usd", "charge")
    done = await until_final(client, resp.headers["Location"], consumer.headers)
    assert done["step"] == "completed" and done["payment_intent_id"]
    again = await client.post(f"{hosted.base}/purchase", headers=headers,
                              json={"payment_method": "pm_card_visa"})  # fmt: skip
    assert again.json()["id"] == bought["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert await charges(provider, bought["id"]) == 1
    assert (
        await client.post(hosted.infer_url(), json=BODY, headers=consumer.headers)
    ).status_code == 200
    # A declined card: the saga fails, nothing is granted.
    other = await register_and_login(client)
    resp = await client.post(f"{hosted.base}/purchase", headers=other.headers,
                             json={"payment_method": "pm_card_chargeDeclined"})  # fmt: skip
    failed = await until_final(client, resp.headers["Location"], other.headers)
    assert failed["step"] == "failed" and failed["error"]
    async with runtime.db.session() as s:
        grants = (await s.execute(select(ModelGrant.consumer_id))).scalars().all()
    assert grants == [consumer.id]


async def test_what_cannot_be_bought_is_a_problem(
    client: httpx.AsyncClient, runtime: Runtime, provider: FakeProvider
) -> None:
    hosted = await host_model(client, runtime, affine_onnx())
    consumer = await register_and_login(client)
    url = f"{hosted.base}/purchase"
    body = {"payment_method": "pm_card_visa"}
    unconfigured = await client.post(url, headers=consumer.headers, json=body)
    assert unconfigured.status_code == 503
    runtime.app_settings.payments_base_url = provider.base_url  # type: ignore[attr-defined]
    for resp in (await client.post(url, headers=consumer.headers, json=body),
                 await client.post(url, headers=hosted.publisher.headers, json=body)):  # fmt: skip
        assert resp.status_code == 409 and resp.headers["content-type"].startswith(
            "application/problem+json"
        )
    assert (await client.post(url, headers=consumer.headers, json={})).status_code == 422
    assert (await client.post(url, json=body)).status_code == 401
    assert (
        await client.get("/api/v1/purchases/not-an-id", headers=consumer.headers)
    ).status_code == 422
