"""Publisher payouts transferred to connected accounts, over HTTP against the fake provider
(a subprocess), on both backends: the payout account route (its four auth cases), a refused
transfer credited back and paid by the next attempt, a run killed between the transfer and
its commit paid once, and a publisher without an account kept pending until they add one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from modelhub.billing import ledger, payouts
from modelhub.billing.models import Payout
from modelhub.billing.tasks import pay_out
from sqlalchemy import select

from forgekit.identity.testing import TestUser, register_and_login, set_user
from forgekit.payments import StripeAdapter, Transfer
from forgekit.runtime import Runtime
from forgekit.testing.payments import FakeProvider, fake_provider

PERIOD = "2025-11"
ACCOUNT_URL = "/api/v1/billing/payout-account"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with fake_provider() as fake:
        yield fake


def configure(runtime: Runtime, fake: FakeProvider) -> Any:
    settings: Any = runtime.app_settings
    settings.payments_base_url, settings.payments_api_key = fake.base_url, fake.api_key
    settings.payout_threshold = 100
    return settings


async def publisher(client: httpx.AsyncClient, runtime: Runtime) -> TestUser:
    user = await register_and_login(client)
    await set_user(runtime, user, role="publisher", is_verified=True)
    return user


async def earn(runtime: Runtime, pub: TestUser, amount: int) -> None:
    """A completed purchase of ``amount`` credits the publisher 80 % of it."""
    async with runtime.db.transaction() as s:
        await ledger.credit_purchase(s, 8000, uuid.uuid4(), pub.id, amount, "usd", "m/x")


async def balance(runtime: Runtime, pub: TestUser) -> int:
    async with runtime.db.session() as s:
        return sum(b for _, _, b in await ledger.balances(s, pub.id))


async def rows(runtime: Runtime, pub: TestUser) -> list[Payout]:
    async with runtime.db.session() as s:
        stmt = select(Payout).where(Payout.publisher_id == pub.id).order_by(Payout.attempt)
        return list((await s.execute(stmt)).scalars())


async def transfers_to(fake: FakeProvider, account: str, kind: str) -> list[dict[str, Any]]:
    return [e["data"]["object"] for e in await fake.control.events()
            if e["type"] == kind and e["data"]["object"]["destination"] == account]  # fmt: skip


class Killed(Exception):
    """The process dying (what a SIGKILL leaves: nothing after this point runs)."""


class KilledAfterTransfer(StripeAdapter):
    """The transfer reaches the provider, then the process dies before the commit."""

    async def create_transfer(self, *args: Any, **kwargs: Any) -> Transfer:
        await super().create_transfer(*args, **kwargs)
        raise Killed("between the transfer and the commit")


async def test_payout_account_route_and_its_auth_cases(
    client: httpx.AsyncClient, runtime: Runtime, provider: FakeProvider
) -> None:
    configure(runtime, provider)
    pub, consumer = await publisher(client, runtime), await register_and_login(client)
    assert (await client.get(ACCOUNT_URL)).status_code == 401
    assert (await client.put(ACCOUNT_URL, json={})).status_code == 401
    for call in (client.get(ACCOUNT_URL, headers=consumer.headers),
                 client.put(ACCOUNT_URL, json={}, headers=consumer.headers)):  # fmt: skip
        denied = await call
        assert denied.status_code == 403
        assert denied.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(ACCOUNT_URL, headers=pub.headers)).status_code == 404
    for body, status in (({"account_id": "acct_unknown1"}, 422), ({"account_id": "bank 1"}, 422),
                         ({"account_id": "acct_x", "iban": "x"}, 422)):  # fmt: skip
        refused = await client.put(ACCOUNT_URL, json=body, headers=pub.headers)
        assert refused.status_code == status, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    made = await client.put(ACCOUNT_URL, json={}, headers=pub.headers)
    assert made.status_code == 200 and made.json()["account_id"].startswith("acct_")
    again = await client.put(ACCOUNT_URL, json={}, headers=pub.headers)  # the same key: replay
    assert again.json()["account_id"] == made.json()["account_id"]
    async with provider.adapter() as stripe:
        other = await stripe.create_account("o@example.com", idempotency_key=uuid.uuid4().hex)
    chosen = await client.put(ACCOUNT_URL, json={"account_id": other.id}, headers=pub.headers)
    assert chosen.status_code == 200
    read = await client.get(ACCOUNT_URL, headers=pub.headers)
    assert (read.json()["account_id"], read.json()["publisher_id"]) == (other.id, str(pub.id))


async def test_failed_transfer_is_credited_back_and_paid_by_the_next_attempt(
    client: httpx.AsyncClient, runtime: Runtime, provider: FakeProvider
) -> None:
    configure(runtime, provider)
    pub = await publisher(client, runtime)
    account = (await client.put(ACCOUNT_URL, json={}, headers=pub.headers)).json()["account_id"]
    await earn(runtime, pub, 1000)
    await provider.control.fail_next("transfer_failure")
    made, sent = await pay_out(runtime, PERIOD)
    assert [(p.amount, p.attempt) for p in made] == [(800, 1)] and sent.failed == [made[0].id]
    assert await balance(runtime, pub) == 800  # credited back
    made, sent = await pay_out(runtime, PERIOD)  # the next run: attempt 2
    assert [(p.amount, p.attempt) for p in made] == [(800, 2)] and sent.paid == [made[0].id]
    made, sent = await pay_out(runtime, PERIOD)  # nothing left to do
    assert (made, sent.paid, sent.failed) == ([], [], [])
    assert await balance(runtime, pub) == 0
    first, second = await rows(runtime, pub)
    assert first.status == "failed" and first.transfer_id is not None
    assert "balance_insufficient" in (first.failure or "")
    assert (second.status, second.destination) == ("paid", account)
    paid = await transfers_to(provider, account, "transfer.created")
    assert [(t["id"], t["amount"]) for t in paid] == [(second.transfer_id, 800)]
    assert len(await transfers_to(provider, account, "transfer.failed")) == 1
    listed = (await client.get("/api/v1/billing/payouts", headers=pub.headers)).json()
    assert sorted((p["attempt"], p["status"]) for p in listed) == [(1, "failed"), (2, "paid")]
    async with runtime.db.session() as s:
        kinds = sorted(e.kind for e in await ledger.entries(s, pub.id, 10))
    assert kinds == ["credit", "payout", "payout", "payout_failed"]


async def test_a_run_killed_after_the_transfer_pays_once_and_no_account_waits(
    client: httpx.AsyncClient, runtime: Runtime, provider: FakeProvider
) -> None:
    settings = configure(runtime, provider)
    pub, late = await publisher(client, runtime), await publisher(client, runtime)
    account = (await client.put(ACCOUNT_URL, json={}, headers=pub.headers)).json()["account_id"]
    await earn(runtime, pub, 500)
    await earn(runtime, late, 250)
    async with runtime.db.transaction() as s:
        made = await ledger.run_payouts(s, PERIOD, settings.payout_threshold)
    assert sorted(p.amount for p in made) == [200, 400]
    killed = KilledAfterTransfer(provider.base_url, provider.api_key, 5.0)
    async with killed, runtime.db.session() as s:
        with pytest.raises(Killed):
            await payouts.send_pending(s, killed)
    [mine] = await rows(runtime, pub)
    assert mine.status == "pending"  # the transfer happened; its answer was never committed
    _, sent = await pay_out(runtime, PERIOD)  # the rerun repeats the request: replayed
    assert sent.paid == [mine.id] and sent.pending == []  # `late` has no account: not sent
    [mine] = await rows(runtime, pub)
    assert mine.status == "paid"
    assert len(await transfers_to(provider, account, "transfer.created")) == 1
    calls = [r for r in await provider.control.requests()
             if r["idempotency_key"] == payouts.transfer_key(mine.id)]  # fmt: skip
    assert [r["replayed"] for r in calls] == [False, True]
    [waiting] = await rows(runtime, late)
    assert (waiting.status, waiting.destination) == ("pending", None)
    other = (await client.put(ACCOUNT_URL, json={}, headers=late.headers)).json()["account_id"]
    made, sent = await pay_out(runtime, PERIOD)
    assert made == [] and sent.paid == [waiting.id]
    assert [t["amount"] for t in await transfers_to(provider, other, "transfer.created")] == [200]
