"""The billing job end to end, on both backends, against the fake provider (a subprocess):
``modelhub billing invoice --period`` run as a process on a prepared database, and the
periodic job started by a worker runtime (only the ``billing`` group, a short interval),
waited on until last month's usage invoice is paid."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from modelhub.billing import invoicing
from modelhub.billing.models import BillingInvoice, UsageInvoice
from modelhub.billing.subscriptions import ensure_customer
from modelhub.product import PRODUCT
from modelhub.settings import ModelhubSettings
from modelhub.testing import process_env
from modelhub.usage.models import UsageHourly
from sqlalchemy import select

from forgekit.db.base import utcnow
from forgekit.identity.testing import register_and_login, set_user
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from forgekit.testing.payments import FakeProvider, fake_provider
from forgekit.testing.servers import free_port


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with fake_provider() as fake:
        yield fake


async def billable_usage(
    client: httpx.AsyncClient, runtime: Runtime, fake: FakeProvider, hour: datetime
) -> tuple[uuid.UUID, str]:
    """A consumer with a card and 1,000 calls of a model at 3.00 per 1k in ``hour``'s month
    (300 minor units); returns the consumer's id and its customer id at the provider."""
    pub, consumer = await register_and_login(client), await register_and_login(client)
    await set_user(runtime, pub, role="publisher", is_verified=True)
    body = {"name": "meter", "title": "meter", "task": "regression", "framework": "onnx",
            "license": "mit", "visibility": "public", "pricing": {"price_per_1k_calls": "3"}}  # fmt: skip
    created = await client.post("/api/v1/models", json=body, headers=pub.headers)
    assert created.status_code == 201, created.text
    async with runtime.db.transaction() as s:
        s.add(UsageHourly(consumer_id=consumer.id, model_id=uuid.UUID(created.json()["id"]),
                          hour=hour, calls=1000, items=1000, compute_ms=0))  # fmt: skip
    async with fake.adapter() as stripe, runtime.db.transaction() as s:
        customer = await ensure_customer(s, stripe, consumer.id, "c@example.com", "pm_card_visa")
    return consumer.id, customer


async def paid_invoice(runtime: Runtime, consumer: uuid.UUID) -> tuple[str, int] | None:
    """``(period, amount paid)`` of the consumer's usage invoice once the mirror says paid."""
    async with runtime.db.session() as s:
        row = (await s.execute(
            select(UsageInvoice.period, BillingInvoice.status, BillingInvoice.amount_paid)
            .join(BillingInvoice, BillingInvoice.provider_id == UsageInvoice.provider_invoice_id)
            .where(UsageInvoice.consumer_id == consumer)
        )).first()  # fmt: skip
    return (row[0], row[2]) if row is not None and row[1] == "paid" else None


async def wait_for(check: Callable[[], Awaitable[Any]], what: str, timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := await check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
    return value


async def test_cli_invoice_run_as_a_process(
    client: httpx.AsyncClient, runtime: Runtime, provider: FakeProvider,
    forge_settings: ForgeSettings, tmp_path: Path,
) -> None:  # fmt: skip
    hour = datetime(2025, 10, 3, 8, tzinfo=UTC)
    consumer, customer = await billable_usage(client, runtime, provider, hour)
    env = process_env(forge_settings, tmp_path, free_port(),
                      MODELHUB_PAYMENTS_BASE_URL=provider.base_url,
                      MODELHUB_PAYMENTS_API_KEY=provider.api_key)  # fmt: skip
    command = [sys.executable, "-m", "modelhub.cli", "billing", "invoice", "--period", "2025-10"]
    # One process (its start-up is most of this test's time); the CLI's refusals (a bad
    # period: one line, exit 1) are covered in-process by test_billing_invoicing.
    run = await asyncio.to_thread(subprocess.run, command, env=env, cwd=tmp_path,
                                  capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "2025-10: 1 planned now, 1 paid, 0 failed (dunning), 0 pending"
    assert await paid_invoice(runtime, consumer) == ("2025-10", 300)
    charges = [e["data"]["object"]["amount"] for e in await provider.control.events()
               if e["type"] == "charge.succeeded" and e["data"]["object"]["customer"] == customer]  # fmt: skip
    assert charges == [300]


async def test_periodic_job_started_by_a_worker_pays_last_months_invoice(
    client: httpx.AsyncClient, runtime: Runtime, provider: FakeProvider,
    forge_settings: ForgeSettings,
) -> None:  # fmt: skip
    period = invoicing.previous_period(utcnow())
    start, _ = invoicing.month_bounds(period)
    consumer, _ = await billable_usage(client, runtime, provider, start.replace(day=2, hour=5))
    settings = ModelhubSettings(
        _env_file=None, payments_fake=False, payments_base_url=provider.base_url,
        payments_api_key=provider.api_key, billing_interval_s=0.5, billing_first_delay_s=0,
    )  # fmt: skip
    # What ``modelhub worker --queues billing`` does: the billing group's consumers and job.
    worker = PRODUCT.build_runtime(forge_settings, settings)
    worker.events.keep_only(["billing"])
    await worker.start(consume=True)
    try:
        paid = await wait_for(lambda: paid_invoice(runtime, consumer), "the invoice paid")
    finally:
        await worker.close()
    assert paid == (period, 300)
